// Python side of the static site: runs in a module Web Worker, so that booting Pyodide and running
// the app never block the page.
//
// It boots Pyodide from this site, unpacks the package bundle (every wheel the app needs, already
// byte-compiled, in one zip) into site-packages, writes the app's files into Pyodide's file system,
// imports the Shiny app and serves its websocket endpoint to the page. Every URL comes from
// config.json next to this file, which the build writes.
//
// Every file listed in config.integrity is read from this build's Cache Storage cache (named after
// the build id) when it is there. Otherwise it is downloaded, as its .gz copy when the build wrote
// one (static hosts send files without Content-Encoding, so DecompressionStream unpacks it here),
// checked against its sha256 and stored. A repeat visit thus reads nothing from the network, even
// before the service worker is installed, and the cache never holds another build's file.
// Pyodide's own requests (the wasm binary, the standard library) take the same path, because
// self.fetch is replaced before Pyodide loads.
//
// Messages from the page:   {type: "start", compressed} | {type: "connect"} | {type: "send", text}
//                           | {type: "close"}
// Messages to the page:     {type: "progress", text} | {type: "ready", seconds, buildId, timings}
//                           | {type: "open"} | {type: "message", text} | {type: "close", code}
//                           | {type: "error", message}

const CONFIG_URL = new URL("config.json", import.meta.url);
const HOME = "/home/pyodide";
const CACHE_PREFIX = "llm-review-";
const HASH_HEADER = "X-Content-Sha256";
const CONTENT_TYPES = {
  json: "application/json",
  mjs: "text/javascript",
  wasm: "application/wasm",
  zip: "application/zip",
};

const networkFetch = self.fetch.bind(self);

let connection = null;
let connectRequested = false;
let app = null;
let bridge = null;

function post(message) {
  self.postMessage(message);
}

function reportProgress(text) {
  post({ type: "progress", text });
}

function describeError(error) {
  return error && error.message ? error.message : String(error);
}

async function fetchJson(url) {
  // "no-cache" revalidates with the server, so an HTTP cache never hands back another build's config.
  const response = await networkFetch(url, { cache: "no-cache" });
  if (!response.ok) {
    throw new Error(`GET ${url} failed with HTTP ${response.status}`);
  }
  return response.json();
}

// Site files: this build's cache first, then the network ---------------------------------------

class SiteFiles {
  constructor(config, compressed) {
    // Browsers without DecompressionStream (Safari before 16.4) download the uncompressed files.
    this.compressed = compressed && typeof DecompressionStream === "function";
    this.integrity = new Map(
      Object.entries(config.integrity || {}).map(([url, entry]) => [new URL(url, CONFIG_URL).href, entry]),
    );
    this.prefetched = new Map();
    this.cache = self.caches
      ? self.caches.open(CACHE_PREFIX + config.buildId).catch(() => null)
      : Promise.resolve(null);
  }

  has(url) {
    return this.integrity.has(url);
  }

  // Start a download now; the next fetch() of the same URL takes over its response.
  prefetch(url) {
    const response = this.fetch(url);
    response.catch(() => {});
    this.prefetched.set(url, response);
  }

  async fetch(url) {
    const prefetched = this.prefetched.get(url);
    if (prefetched) {
      this.prefetched.delete(url);
      return prefetched;
    }

    const cache = await this.cache;
    if (cache) {
      const cached = await cache.match(url);
      if (cached) {
        return cached;
      }
    }

    const entry = this.integrity.get(url);
    const gzip = Boolean(entry && entry.gzip && this.compressed);
    const response = await networkFetch(gzip ? `${url}.gz` : url);
    if (!response.ok) {
      throw new Error(`GET ${response.url} failed with HTTP ${response.status}`);
    }
    const body = gzip ? response.body.pipeThrough(new DecompressionStream("gzip")) : response.body;
    const headers = { "Content-Type": contentType(url) };
    if (!cache || !entry) {
      return new Response(body, { headers });
    }

    const [forCaller, forCache] = body.tee();
    storeIfIntact(cache, url, forCache, entry.sha256, headers).catch((error) => {
      console.warn(`Not caching ${url}: ${describeError(error)}`);
    });
    return new Response(forCaller, { headers });
  }
}

function contentType(url) {
  const extension = new URL(url).pathname.split(".").pop();
  return CONTENT_TYPES[extension] || "application/octet-stream";
}

async function storeIfIntact(cache, url, body, expected, headers) {
  const bytes = await new Response(body).arrayBuffer();
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const actual = Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
  if (actual !== expected) {
    throw new Error(`its sha256 is ${actual}, but this build expects ${expected}`);
  }
  await cache.put(url, new Response(bytes, { headers: { ...headers, [HASH_HEADER]: expected } }));
}

// Pyodide fetches its wasm binary, standard library and lock file with the global fetch.
function routeFetchThrough(siteFiles) {
  self.fetch = (resource, init) => {
    const url = new URL(resource instanceof Request ? resource.url : String(resource), self.location.href).href;
    if (siteFiles.has(url) && (!init || !init.method || init.method === "GET")) {
      return siteFiles.fetch(url);
    }
    return networkFetch(resource, init);
  };
}

// Boot ------------------------------------------------------------------------------------------

function writeFiles(pyodide, files) {
  const encoder = new TextEncoder();
  for (const [path, text] of Object.entries(files)) {
    const fullPath = `${HOME}/${path}`;
    pyodide.FS.mkdirTree(fullPath.slice(0, fullPath.lastIndexOf("/")));
    // Given a string, FS.writeFile first copies it into a plain JS array of bytes, which V8
    // rejects ("Invalid array length") for a data file of a few hundred megabytes.
    pyodide.FS.writeFile(fullPath, encoder.encode(text));
  }
}

// Called from Python with the kind of event and its payload.
function postFromPython(kind, payload) {
  if (kind === "open") {
    post({ type: "open" });
  } else if (kind === "message") {
    post({ type: "message", text: payload });
  } else if (kind === "close") {
    post({ type: "close", code: payload });
  } else if (kind === "error") {
    post({ type: "error", message: `The app stopped: ${payload}` });
  }
}

function openConnection() {
  connection = bridge.Connection(app, postFromPython);
}

async function boot({ compressed }) {
  const started = performance.now();
  const timings = {};
  const mark = (name) => {
    timings[name] = Math.round(performance.now() - started);
  };

  const config = await fetchJson(CONFIG_URL);
  mark("config");
  const siteFiles = new SiteFiles(config, compressed);
  routeFetchThrough(siteFiles);

  reportProgress("Loading Python (Pyodide)");
  const indexURL = new URL(config.pyodide, CONFIG_URL).href;
  const stdLibURL = config.stdlib ? new URL(config.stdlib, CONFIG_URL).href : `${indexURL}python_stdlib.zip`;
  const packagesURL = new URL(config.packages, CONFIG_URL).href;
  const filesURL = new URL(config.files, CONFIG_URL).href;

  // Start every download now, so that they run while the wasm binary compiles. Pyodide would
  // request the standard library only after that.
  for (const url of [`${indexURL}pyodide.asm.wasm`, stdLibURL, `${indexURL}pyodide-lock.json`]) {
    siteFiles.prefetch(url);
  }
  const packagesPromise = siteFiles.fetch(packagesURL).then((response) => response.arrayBuffer());
  const filesPromise = siteFiles.fetch(filesURL).then((response) => response.json());
  packagesPromise.catch(() => {});
  filesPromise.catch(() => {});
  import(`${indexURL}pyodide.asm.mjs`).catch(() => {});

  const { loadPyodide } = await import(`${indexURL}pyodide.mjs`);
  const pyodide = await loadPyodide({ indexURL, stdLibURL });
  mark("pyodide");

  reportProgress("Installing packages");
  const sitePackages = pyodide.runPython(
    "import sys; next(path for path in sys.path if path.endswith('site-packages'))",
  );
  pyodide.unpackArchive(await packagesPromise, "zip", { extractDir: sitePackages });
  pyodide.runPython("import importlib; importlib.invalidate_caches()");
  mark("packages");

  reportProgress("Starting the app");
  writeFiles(pyodide, await filesPromise);
  mark("files");
  pyodide.runPython(`import sys; sys.path.insert(0, "${HOME}/runtime")`);
  bridge = pyodide.pyimport("asgi_bridge");
  app = bridge.import_app(`${HOME}/app`);
  mark("app");

  post({ type: "ready", seconds: (performance.now() - started) / 1000, buildId: config.buildId, timings });
  if (connectRequested) {
    openConnection();
  }
}

self.onmessage = (event) => {
  const message = event.data;
  if (message.type === "start") {
    boot({ compressed: message.compressed !== false }).catch((error) => {
      post({ type: "error", message: describeError(error) });
    });
  } else if (message.type === "connect") {
    connectRequested = true;
    if (app !== null) {
      openConnection();
    }
  } else if (message.type === "send" && connection !== null) {
    connection.receive_text(message.text);
  } else if (message.type === "close" && connection !== null) {
    connection.close();
  }
};
