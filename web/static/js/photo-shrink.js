/* Aduan photo shrinking, on the phone, before a report goes into the outbox: a 12 MP camera
 * photo becomes ~60-160 KB (long edge ≤ 1600 px; WebP 0.7 where the browser encodes WebP,
 * else JPEG 0.5; bench/phone_photo.py), and the GPS position the camera wrote into its EXIF
 * is read first, since the canvas drops EXIF. The server decodes either and stores a JPEG.
 *
 * Loaded by outbox.js when the report form's first photo is chosen (without it the original
 * goes out and the server shrinks it). Plain ES2017, no build step.
 */
(function (global) {
  'use strict';
  if (global.AduanPhotoShrink) return;

  const MAX_EDGE = 1600;           // long edge of a photo shrunk on the phone
  const JPEG_QUALITY = 0.5;
  const WEBP_QUALITY = 0.7;
  let webp;  // whether canvas encodes WebP (Safari answers with a PNG): asked once, cheaply

  const begun = new WeakMap();  // File → its shrinking, begun when it was chosen (outbox.js)
  let queue = Promise.resolve();  // one photo at a time: a 12 MP bitmap is 48 MB

  /* Decode once, draw once at ≤ MAX_EDGE, encode WebP or JPEG. If the phone cannot decode
   * it (e.g. HEIC), the server gets the original to decode. Resolves with {blob, name, gps?}. */
  function shrink(file) {
    let done = begun.get(file);
    if (!done) {
      done = queue.then(async () => {
        const gps = await readGps(file);  // before the canvas drops EXIF with the GPS in it
        const shrunk = await draw(file);
        if (gps) shrunk.gps = gps;
        return shrunk;
      });
      queue = done.catch(() => {});
      begun.set(file, done);
    }
    return done;
  }

  async function draw(file) {
    let bitmap;
    try {
      bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' })
        .catch(() => createImageBitmap(file));
    } catch (err) {
      return { blob: file, name: file.name || 'foto' };
    }
    const scale = Math.min(1, MAX_EDGE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    const ctx = canvas.getContext('2d');
    ctx.imageSmoothingQuality = 'high';
    ctx.fillStyle = '#fff';  // a transparent PNG would turn black in a JPEG
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    if (webp === undefined) {
      const probe = document.createElement('canvas');
      probe.width = probe.height = 1;
      webp = probe.toDataURL('image/webp').startsWith('data:image/webp');
    }
    const type = webp ? 'image/webp' : 'image/jpeg';
    const blob = await new Promise((resolve) =>
      canvas.toBlob(resolve, type, webp ? WEBP_QUALITY : JPEG_QUALITY));
    canvas.width = canvas.height = 0;  // give the pixels back now, not at garbage collection
    const original = { blob: file, name: file.name || 'foto' };
    if (!blob) return original;
    // Already small enough, in a format the server reads: the phone's own file is better.
    if (scale === 1 && /^image\/(jpeg|png|webp)$/.test(file.type) && file.size <= blob.size) {
      return original;
    }
    return { blob, name: (file.name || 'foto').replace(/\.[^.]*$/, '') + (webp ? '.webp' : '.jpg') };
  }

  /* The GPS position a phone camera wrote into a JPEG's EXIF, or null. Only the first
   * 256 KB is read; staff see the position, the public never does. */
  async function readGps(file) {
    try {
      if (file.type && file.type !== 'image/jpeg') return null;
      const view = new DataView(await file.slice(0, 262144).arrayBuffer());
      if (view.getUint16(0) !== 0xFFD8) return null;
      for (let at = 2; at + 10 < view.byteLength;) {
        const marker = view.getUint16(at);
        if (marker === 0xFFE1 && view.getUint32(at + 4) === 0x45786966) return gpsFromTiff(view, at + 10);
        if ((marker & 0xFF00) !== 0xFF00 || marker === 0xFFDA) return null;
        at += 2 + view.getUint16(at + 2);
      }
    } catch (err) { /* a photo without readable EXIF simply has no position */ }
    return null;
  }

  function gpsFromTiff(view, tiff) {
    const little = view.getUint16(tiff) === 0x4949;
    const u16 = (o) => view.getUint16(tiff + o, little);
    const u32 = (o) => view.getUint32(tiff + o, little);
    const entries = (o) => {
      const tags = {};
      for (let i = 0, n = u16(o); i < n; i++) tags[u16(o + 2 + i * 12)] = o + 2 + i * 12;
      return tags;
    };
    const ifd0 = entries(u32(4));
    if (!(0x8825 in ifd0)) return null;
    const gps = entries(u32(ifd0[0x8825] + 8));
    const ref = (tag) => (tag in gps ? String.fromCharCode(view.getUint8(tiff + gps[tag] + 8)) : '');
    const degrees = (tag) => {
      if (!(tag in gps)) return NaN;
      const at = u32(gps[tag] + 8);
      return [1, 60, 3600].reduce((sum, unit, i) => sum + u32(at + i * 8) / u32(at + i * 8 + 4) / unit, 0);
    };
    const lat = degrees(2) * (ref(1) === 'S' ? -1 : 1);
    const lon = degrees(4) * (ref(3) === 'W' ? -1 : 1);
    if (!isFinite(lat) || !isFinite(lon) || (lat === 0 && lon === 0)) return null;
    if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
    return [Number(lat.toFixed(7)), Number(lon.toFixed(7))];
  }

  global.AduanPhotoShrink = { shrink, readGps };
})(self);
