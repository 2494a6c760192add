// Service worker for the whole site (the build writes it to sw.js at the site root). It precaches
// every file of one build and serves them cache-first, so after one visit the site opens with the
// network off, and repeat visits read nothing from the network.
//
// Each build has its own cache, named after the build id (a hash of every file's content):
//   - install:  fill this build's cache. A file that the page's worker already stored during this
//               visit is kept, one with the same sha256 in an older build's cache is copied, and
//               the rest are downloaded. Every file is checked against its sha256, so a cache never
//               contains files of two builds; on a mismatch (the site changed again meanwhile) the
//               install fails and the browser retries with the newer sw.js on a later visit.
//   - waiting:  while an older build's worker controls open pages, this one waits until the page
//               posts "activate" (bridge.js does that only while the app is still booting, so no
//               one's unsaved input is lost) or until those pages are closed.
//   - activate: delete every other build's cache.
//
// The build fills in BUILD_ID and PRECACHE: [path relative to the site root, sha256, whether
// PATH.gz exists]. Large files are downloaded as their .gz copy and stored unpacked.

const BUILD_ID = "__BUILD_ID__";
const PRECACHE = [/* __PRECACHE__ */];

const CACHE_PREFIX = "llm-review-";
const CACHE_NAME = CACHE_PREFIX + BUILD_ID;
const SITE_ROOT = new URL("./", self.location.href).href;
const HASH_HEADER = "X-Content-Sha256";
const PARALLEL_DOWNLOADS = 4;

const CONTENT_TYPES = {
  css: "text/css",
  html: "text/html; charset=utf-8",
  js: "text/javascript",
  json: "application/json",
  mjs: "text/javascript",
  svg: "image/svg+xml",
  wasm: "application/wasm",
  woff2: "font/woff2",
  zip: "application/zip",
};

self.addEventListener("install", (event) => {
  event.waitUntil(precache());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(deleteOtherCaches());
});

self.addEventListener("message", (event) => {
  if (event.data === "activate") {
    self.skipWaiting();
  } else if (event.data === "build-id" && event.ports[0]) {
    event.ports[0].postMessage(BUILD_ID);
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) {
    return;
  }
  event.respondWith(respondFromCache(request, url));
});

async function respondFromCache(request, url) {
  const cache = await caches.open(CACHE_NAME);
  let key = url.origin + url.pathname;
  if (key.endsWith("/")) {
    key += "index.html";
  }
  const cached = await cache.match(key);
  if (cached) {
    return cached;
  }
  return fetch(request);
}

async function precache() {
  const cache = await caches.open(CACHE_NAME);
  const olderCaches = (await caches.keys()).filter(
    (name) => name.startsWith(CACHE_PREFIX) && name !== CACHE_NAME,
  );

  const pending = PRECACHE.slice();
  async function takeNext() {
    while (pending.length > 0) {
      const [path, sha256, gzip] = pending.shift();
      await precacheFile(cache, olderCaches, new URL(path, SITE_ROOT).href, sha256, gzip);
    }
  }
  await Promise.all(Array.from({ length: PARALLEL_DOWNLOADS }, takeNext));
}

async function precacheFile(cache, olderCaches, url, sha256, gzip) {
  const stored = await cache.match(url);
  if (stored && stored.headers.get(HASH_HEADER) === sha256) {
    return;
  }

  for (const name of olderCaches) {
    const older = await (await caches.open(name)).match(url);
    if (older && older.headers.get(HASH_HEADER) === sha256) {
      await cache.put(url, older);
      return;
    }
  }

  // "no-cache" revalidates with the server, so the HTTP cache cannot hand back an older build's
  // file; unchanged files cost a 304 response.
  gzip = gzip && typeof DecompressionStream === "function";
  const response = await fetch(gzip ? url + ".gz" : url, { cache: "no-cache" });
  if (!response.ok) {
    throw new Error(`GET ${response.url} failed with HTTP ${response.status}`);
  }
  const body = gzip ? response.body.pipeThrough(new DecompressionStream("gzip")) : response.body;
  const bytes = await new Response(body).arrayBuffer();
  const actual = await sha256Hex(bytes);
  if (actual !== sha256) {
    throw new Error(
      `${url} has sha256 ${actual}, but build ${BUILD_ID} expects ${sha256}; the site changed during the install`,
    );
  }
  await cache.put(url, makeResponse(bytes, url, sha256));
}

function makeResponse(bytes, url, sha256) {
  const extension = new URL(url).pathname.split(".").pop();
  return new Response(bytes, {
    headers: {
      "Content-Type": CONTENT_TYPES[extension] || "application/octet-stream",
      [HASH_HEADER]: sha256,
    },
  });
}

async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function deleteOtherCaches() {
  const names = await caches.keys();
  await Promise.all(
    names
      .filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE_NAME)
      .map((name) => caches.delete(name)),
  );
}
