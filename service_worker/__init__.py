"""The service worker's source (sw.js), served at /sw.js by web/routes/pwa.py."""
