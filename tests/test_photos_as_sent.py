"""A JPEG the phone already shrank and turned upright is kept as sent, without its metadata
(web/photos.py `_as_sent`); anything else is still decoded and encoded anew. Real image
bytes made by Pillow."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image, ImageChops, ImageCms

from tests.images import (
    JAKARTA,
    RED,
    assert_clean_jpeg,
    camera_like,
    encode,
    exif_with,
    gps_tags,
    jpeg_markers,
)
from web.photos import LONG_EDGE, PhotoError, process_photo


def phone_shrunk(
    size: tuple[int, int] = (1600, 1200), quality: int = 70, **params: object
) -> bytes:
    """What js/photo-shrink.js sends (long edge ≤ 1600 px, JPEG 0.7), here with a red
    marker top-left and whatever metadata `params` add."""
    im = camera_like(size)
    im.paste(RED, (0, 0, 100, 100))
    return encode(im, "JPEG", quality=quality, **params)


def pixels(data: bytes) -> Image.Image:
    with Image.open(BytesIO(data)) as im:
        return im.convert("RGB")


def same_pixels(a: bytes, b: bytes) -> bool:
    return ImageChops.difference(pixels(a), pixels(b)).getbbox() is None


def is_red(pixel: tuple[int, ...]) -> bool:
    r, g, b = pixel[:3]
    return r > 200 and g < 60 and b < 60


def test_a_phone_jpeg_with_gps_exif_icc_and_a_comment_keeps_its_pixels_and_none_of_those():
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = exif_with(orientation=1, gps=gps_tags(*JAKARTA))
    exif[0x010F] = "PhoneMaker"
    sent = phone_shrunk(exif=exif.tobytes(), icc_profile=icc, comment=b"rumah saya")
    # Phones append further pictures (depth maps, gain maps) after the end of the first.
    sent += encode(camera_like((160, 120)), "JPEG", comment=b"hidden second picture")

    result = process_photo(sent)

    assert_clean_jpeg(result.jpeg)
    assert_clean_jpeg(result.thumb)
    for secret in (b"GPS", b"PhoneMaker", b"rumah saya", b"hidden second picture", icc[:64]):
        assert secret not in result.jpeg and secret not in result.thumb
    assert jpeg_markers(result.jpeg).count(0xD8) == 1  # one picture, nothing after its end
    assert result.gps == pytest.approx(JAKARTA, abs=1e-4)  # read before it was removed
    # The phone's own pixels, not decoded and encoded again (a generation of loss and
    # most of a submission's CPU).
    assert same_pixels(result.jpeg, sent)
    assert len(result.jpeg) < len(sent)
    assert (result.width, result.height) == (1600, 1200)
    assert Image.open(BytesIO(result.thumb)).size == (400, 300)


def test_an_exif_rotated_phone_jpeg_is_still_turned_upright():
    sent = phone_shrunk(exif=exif_with(orientation=6, gps=gps_tags(*JAKARTA)).tobytes())

    result = process_photo(sent)

    out = assert_clean_jpeg(result.jpeg)
    assert out.size == (1200, 1600) and (result.width, result.height) == (1200, 1600)
    # Orientation 6: the top-left corner is shown top-right.
    assert is_red(out.getpixel((out.width - 30, 30)))
    assert not is_red(out.getpixel((30, 30)))
    thumb = assert_clean_jpeg(result.thumb)
    assert thumb.size == (300, 400) and is_red(thumb.getpixel((thumb.width - 8, 8)))
    assert b"GPS" not in result.jpeg


def test_a_jpeg_finer_than_ours_is_encoded_anew_and_comes_out_smaller():
    sent = phone_shrunk(quality=95)

    result = process_photo(sent)

    assert_clean_jpeg(result.jpeg)
    assert not same_pixels(result.jpeg, sent)
    assert len(result.jpeg) < len(sent) * 0.7


@pytest.mark.parametrize(
    ("size", "stored"),
    [
        ((4000, 3000), (1600, 1200)),
        ((1601, 1200), (1600, 1199)),
        ((3000, 4000), (1200, 1600)),
        ((1600, 1200), (1600, 1200)),
        ((1200, 900), (1200, 900)),
    ],
)
def test_photos_keep_the_pixel_size_they_had_before(size, stored):
    result = process_photo(phone_shrunk(size))

    assert (result.width, result.height) == stored
    assert Image.open(BytesIO(result.jpeg)).size == stored
    assert max(Image.open(BytesIO(result.thumb)).size) == 400
    assert max(stored) <= LONG_EDGE


def test_a_phone_jpeg_cut_in_half_is_still_damaged():
    sent = phone_shrunk()

    with pytest.raises(PhotoError) as info:
        process_photo(sent[: len(sent) // 2])

    assert info.value.code == "damaged"


def test_an_rgb_jpeg_is_encoded_anew_with_its_colours():
    # Components stored as RGB (named R, G, B, with an Adobe segment saying so) would turn
    # the wrong colours once our JFIF header calls them YCbCr: never kept as sent.
    im = Image.new("RGB", (320, 240), RED)
    sent = encode(im, "JPEG", quality=60, keep_rgb=True)

    result = process_photo(sent)

    out = assert_clean_jpeg(result.jpeg)
    assert is_red(out.getpixel((160, 120)))
