"""Tests for web/photos.py with real image bytes made by Pillow (no fixture files)."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import warnings
from io import BytesIO

import pillow_heif
import pytest
from PIL import Image, ImageCms, ImageFile, JpegImagePlugin, TiffImagePlugin

from tests.images import (
    JAKARTA,
    RED,
    assert_clean_jpeg,
    camera_like,
    encode,
    exif_with,
    gps_tags,
    phone_jpeg,
)
from web import photos
from web.photo_gate import process_photo_async
from web.photos import (
    LONG_EDGE,
    MAX_UPLOAD_BYTES,
    Photo,
    PhotoError,
    process_photo,
)


def photo_error(data: bytes) -> str:
    with pytest.raises(PhotoError) as info:
        process_photo(data)
    return info.value.code


def is_red(pixel: tuple[int, ...]) -> bool:
    r, g, b = pixel[:3]
    return r > 200 and g < 60 and b < 60


# --- phone photos --------------------------------------------------------------------


def test_the_phone_jpeg_fixture_really_carries_orientation_and_gps():
    exif = Image.open(BytesIO(phone_jpeg())).getexif()
    assert exif[0x0112] == 6
    gps = exif.get_ifd(0x8825)
    assert gps[1] == "S" and gps[3] == "E"
    assert float(gps[2][0]) == 6.0 and float(gps[4][0]) == 106.0


def test_phone_jpeg_with_orientation_6_is_stored_upright_without_exif():
    result = process_photo(phone_jpeg())

    assert (result.width, result.height) == (1200, 1600)
    out = assert_clean_jpeg(result.jpeg)
    assert out.size == (1200, 1600)
    # Orientation 6 means "rotate 90° clockwise to view": top-left goes to top-right.
    assert is_red(out.getpixel((out.width - 30, 30)))
    assert not is_red(out.getpixel((30, 30)))
    assert b"GPS" not in result.jpeg and b"PhoneMaker" not in result.jpeg


def test_phone_jpeg_gps_is_returned_in_decimal_degrees():
    lat, lon = process_photo(phone_jpeg()).gps
    assert lat == pytest.approx(JAKARTA[0], abs=1e-4)
    assert lon == pytest.approx(JAKARTA[1], abs=1e-4)


def test_thumbnail_is_upright_400_px_and_has_no_metadata():
    result = process_photo(phone_jpeg())
    thumb = assert_clean_jpeg(result.thumb)
    assert thumb.size == (300, 400)
    assert is_red(thumb.getpixel((thumb.width - 8, 8)))
    assert b"GPS" not in result.thumb


def test_output_is_a_progressive_jpeg_named_by_its_sha256():
    result = process_photo(phone_jpeg())
    out = Image.open(BytesIO(result.jpeg))
    assert out.info.get("progressive") or out.info.get("progression")
    assert result.sha256 == hashlib.sha256(result.jpeg).hexdigest()


def test_12_megapixel_jpeg_is_decoded_at_reduced_scale_via_draft(monkeypatch):
    seen: list[tuple[object, tuple[int, int]]] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        answer = original(self, mode, size)
        seen.append((size, self.size))
        return answer

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    result = process_photo(phone_jpeg())

    # Asked with the photo's own aspect ratio, so libjpeg decodes at 1/2 scale, and the
    # decoded long side still covers LONG_EDGE.
    assert seen[0] == ((1600, 1200), (2000, 1500))
    assert max(result.width, result.height) == LONG_EDGE


def test_panorama_keeps_its_long_edge_at_1600():
    result = process_photo(encode(camera_like((8000, 2000)), "JPEG", quality=85))
    assert (result.width, result.height) == (1600, 400)


def test_small_photo_is_not_upscaled():
    result = process_photo(encode(camera_like((800, 600)), "JPEG", quality=85))
    assert (result.width, result.height) == (800, 600)
    assert Image.open(BytesIO(result.jpeg)).size == (800, 600)
    assert Image.open(BytesIO(result.thumb)).size == (400, 300)


def test_photo_without_location_has_no_gps():
    assert process_photo(encode(camera_like((640, 480)), "JPEG")).gps is None


@pytest.mark.parametrize(
    "gps",
    [
        {1: "X", 2: (6.0, 10.0, 0.0), 3: "E", 4: (106.0, 49.0, 0.0)},  # unknown hemisphere
        {2: (6.0, 10.0, 0.0), 3: "E", 4: (106.0, 49.0, 0.0)},  # no latitude ref
        {1: "N", 2: (95.0, 0.0, 0.0), 3: "E", 4: (106.0, 0.0, 0.0)},  # beyond the pole
        {1: "N", 2: (6.0, 0.0, 0.0), 3: "E", 4: (181.0, 0.0, 0.0)},  # beyond 180°
        {1: "N", 2: (6.0, 75.0, 0.0), 3: "E", 4: (106.0, 0.0, 0.0)},  # 75 minutes
        {1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)},  # "no fix" placeholder
        {
            1: "N",
            2: (TiffImagePlugin.IFDRational(6, 0), 0.0, 0.0),  # zero denominator
            3: "E",
            4: (106.0, 0.0, 0.0),
        },
        {1: "N", 2: 6, 3: "E", 4: 106},  # not rationals at all
    ],
)
def test_malformed_or_impossible_gps_is_ignored_silently(gps):
    data = encode(camera_like((320, 240)), "JPEG", exif=exif_with(gps=gps))
    assert Image.open(BytesIO(data)).getexif().get_ifd(0x8825)  # really written
    result = process_photo(data)
    assert result.gps is None
    assert_clean_jpeg(result.jpeg)


def test_northern_and_western_refs_give_signs():
    data = encode(camera_like((320, 240)), "JPEG", exif=exif_with(gps=gps_tags(40.7, -74.0)))
    lat, lon = process_photo(data).gps
    assert lat == pytest.approx(40.7, abs=1e-4) and lon == pytest.approx(-74.0, abs=1e-4)


def test_location_is_not_in_the_repr_of_a_processed_photo():
    text = repr(process_photo(phone_jpeg()))
    assert "6.17" not in text and "106.8" not in text and "\\x" not in text


# --- other formats -------------------------------------------------------------------


def test_png_with_alpha_becomes_jpeg_with_white_where_transparent():
    im = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    im.paste((255, 0, 0, 255), (0, 0, 150, 200))
    out = assert_clean_jpeg(process_photo(encode(im, "PNG")).jpeg)
    assert is_red(out.getpixel((20, 100)))
    assert min(out.getpixel((280, 100))) > 245


def test_palette_png_with_transparency_becomes_white_not_black():
    im = Image.new("P", (200, 100), 0)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.paste(1, (0, 0, 100, 100))
    out = assert_clean_jpeg(process_photo(encode(im, "PNG", transparency=0)).jpeg)
    assert is_red(out.getpixel((20, 50)))
    assert min(out.getpixel((180, 50))) > 245


def test_16_bit_greyscale_png_keeps_its_tones_instead_of_turning_white():
    im = Image.new("I;16", (200, 100), 32768)  # mid-grey in 16 bits
    out = assert_clean_jpeg(process_photo(encode(im, "PNG")).jpeg)
    assert 110 < out.getpixel((100, 50))[0] < 145


def test_cmyk_jpeg_becomes_rgb_jpeg():
    im = Image.new("CMYK", (300, 200), (0, 255, 255, 0))  # red in CMYK
    data = encode(im, "JPEG")
    assert Image.open(BytesIO(data)).mode == "CMYK"
    out = assert_clean_jpeg(process_photo(data).jpeg)
    assert is_red(out.getpixel((150, 100)))


def test_webp_becomes_jpeg():
    data = encode(camera_like((1000, 500)), "WEBP", quality=80)
    result = process_photo(data)
    assert (result.width, result.height) == (1000, 500)
    assert_clean_jpeg(result.jpeg)


def test_webp_with_alpha_becomes_jpeg_on_white():
    im = Image.new("RGBA", (100, 100), (0, 0, 255, 0))
    out = assert_clean_jpeg(process_photo(encode(im, "WEBP", lossless=True)).jpeg)
    assert min(out.getpixel((50, 50))) > 245


def test_iphone_heic_becomes_jpeg_and_gives_its_gps():
    pillow_heif.register_heif_opener()
    im = camera_like((1000, 750))
    im.paste(RED, (0, 0, 100, 100))
    exif = exif_with(orientation=6, gps=gps_tags(*JAKARTA))
    data = encode(im, "HEIF", quality=80, exif=exif.tobytes())
    assert Image.open(BytesIO(data)).format == "HEIF"

    result = process_photo(data)

    out = assert_clean_jpeg(result.jpeg)
    assert out.size == (750, 1000)
    assert is_red(out.getpixel((out.width - 30, 30)))  # upright, as the phone showed it
    assert result.gps == pytest.approx(JAKARTA, abs=1e-4)
    assert b"GPS" not in result.jpeg


def test_jpeg_comment_and_icc_profile_are_not_copied():
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(camera_like((640, 480)), "JPEG", comment=b"secret camera note", icc_profile=icc)
    source = Image.open(BytesIO(data))
    assert source.info["comment"] == b"secret camera note" and source.info["icc_profile"]

    result = process_photo(data)

    assert_clean_jpeg(result.jpeg)
    assert_clean_jpeg(result.thumb)
    assert b"secret camera note" not in result.jpeg


def test_png_icc_profile_and_text_are_not_copied():
    from PIL import PngImagePlugin

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "private note")
    data = encode(camera_like((300, 200)), "PNG", icc_profile=icc, pnginfo=text)
    result = process_photo(data)
    assert_clean_jpeg(result.jpeg)
    assert b"private note" not in result.jpeg


# --- refusals ------------------------------------------------------------------------


def test_png_claiming_400_million_pixels_is_refused_before_decoding():
    data = encode(Image.new("1", (20000, 20000)), "PNG")
    assert len(data) < 200_000  # a real bomb: small file, huge claim
    assert photo_error(data) == "too_many_pixels"


def test_png_between_pillows_warning_and_error_thresholds_is_refused():
    data = encode(Image.new("1", (10000, 9500)), "PNG")  # 95 MP: Pillow only warns
    with pytest.raises(PhotoError) as info:
        process_photo(data)
    assert info.value.code == "too_many_pixels"
    # Refused by Pillow's own warning, turned into an error, before our header check.
    assert isinstance(info.value.__cause__, Image.DecompressionBombWarning)


def test_png_over_our_limit_but_under_pillows_is_refused():
    data = encode(Image.new("1", (8000, 7000)), "PNG")  # 56 MP > MAX_PIXELS
    assert photo_error(data) == "too_many_pixels"


def test_refusing_a_bomb_leaves_pillow_and_warning_settings_untouched():
    filters_before = list(warnings.filters)
    limit_before = Image.MAX_IMAGE_PIXELS
    photo_error(encode(Image.new("1", (10000, 9500)), "PNG"))
    assert warnings.filters == filters_before
    assert Image.MAX_IMAGE_PIXELS == limit_before
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_jpeg_cut_in_half_is_damaged():
    data = encode(camera_like((1200, 900)), "JPEG", quality=90)
    assert photo_error(data[: len(data) // 2]) == "damaged"


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "HEIF"])
def test_other_formats_cut_in_half_are_damaged(fmt):
    data = encode(camera_like((600, 400)), fmt)
    assert photo_error(data[: len(data) // 2]) == "damaged"


def test_text_file_named_jpg_is_unsupported():
    assert photo_error(b"Dear sir, the road is broken.\n" * 100) == "unsupported"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO"])
def test_formats_outside_the_list_are_unsupported_by_content(fmt):
    assert photo_error(encode(camera_like((64, 64)), fmt)) == "unsupported"


def test_svg_with_script_is_unsupported():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert photo_error(svg) == "unsupported"


def test_16_mb_upload_is_too_big():
    assert photo_error(b"\xff" * (16 * 1024 * 1024)) == "too_big"


def test_upload_of_exactly_the_limit_is_judged_by_content():
    assert photo_error(b"x" * MAX_UPLOAD_BYTES) == "unsupported"


def test_empty_upload_is_empty():
    assert photo_error(b"") == "empty"


def test_photo_error_message_is_only_its_code():
    with pytest.raises(PhotoError) as info:
        process_photo(b"")
    assert str(info.value) == "empty"


# --- async ---------------------------------------------------------------------------


async def test_async_processing_gives_the_same_result_as_sync():
    assert await process_photo_async(phone_jpeg()) == process_photo(phone_jpeg())


async def test_async_processing_runs_off_the_event_loop_thread(monkeypatch):
    threads: list[int] = []

    def fake(data: bytes) -> Photo:
        threads.append(threading.get_ident())
        return process_photo(data)

    monkeypatch.setattr(photos, "process_photo", fake)
    await process_photo_async(encode(camera_like((320, 240)), "JPEG"))
    assert threads and threads[0] != threading.get_ident()


async def test_async_processing_raises_the_same_photo_errors():
    with pytest.raises(PhotoError) as info:
        await process_photo_async(b"not an image")
    assert info.value.code == "unsupported"


async def test_many_concurrent_uploads_all_complete():
    data = encode(camera_like((640, 480)), "JPEG")
    results = await asyncio.gather(*(process_photo_async(data) for _ in range(6)))
    assert len({r.sha256 for r in results}) == 1


# --- storage -------------------------------------------------------------------------


def test_a_photo_known_only_by_its_hash_equals_the_decoded_one():
    """What a signed token brings back (no bytes) is the photo just decoded: equal, same
    hash. Saving one without bytes is refused (tests/test_photo_store.py)."""
    photo = process_photo(encode(camera_like((320, 240)), "JPEG"))
    held = Photo(photo.sha256, photo.width, photo.height)
    assert held == photo and hash(held) == hash(photo)
    assert "jpeg" not in repr(held) and "gps" not in repr(photo)
