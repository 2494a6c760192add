// Python side of the static site: runs in a module Web Worker, so that booting Pyodide and running
// the app never block the page.
//
// It boots Pyodide from this site, installs the pinned wheels, writes the app's files into
// Pyodide's file system, imports the Shiny app and serves its websocket endpoint to the page.
// Every URL comes from config.json next to this file, which the build writes.
//
// Messages from the page:   {type: "connect"} | {type: "send", text} | {type: "close"}
// Messages to the page:     {type: "progress", text} | {type: "ready", seconds}
//                           | {type: "open"} | {type: "message", text} | {type: "close", code}
//                           | {type: "error", message}

const CONFIG_URL = new URL("config.json", import.meta.url);
const HOME = "/home/pyodide";

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

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`GET ${url} failed with HTTP ${response.status}`);
  }
  return response.json();
}

function writeFiles(pyodide, files) {
  for (const [path, text] of Object.entries(files)) {
    const fullPath = `${HOME}/${path}`;
    pyodide.FS.mkdirTree(fullPath.slice(0, fullPath.lastIndexOf("/")));
    pyodide.FS.writeFile(fullPath, text);
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

async function boot() {
  const started = performance.now();
  const config = await fetchJson(CONFIG_URL);

  reportProgress("Loading Python (Pyodide)");
  const indexURL = new URL(config.pyodide, CONFIG_URL).href;
  const { loadPyodide } = await import(new URL("pyodide.mjs", indexURL).href);
  const filesPromise = fetchJson(new URL(config.files, CONFIG_URL));
  const pyodide = await loadPyodide({ indexURL });

  reportProgress("Installing packages");
  const wheelURLs = config.wheels.map((wheel) => new URL(wheel, CONFIG_URL).href);
  const loadErrors = [];
  await pyodide.loadPackage(wheelURLs, {
    messageCallback: () => {},
    errorCallback: (message) => loadErrors.push(message),
  });
  if (loadErrors.length > 0) {
    throw new Error(`Installing packages failed: ${loadErrors.join("; ")}`);
  }

  reportProgress("Starting the app");
  writeFiles(pyodide, await filesPromise);
  pyodide.runPython(`import sys; sys.path.insert(0, "${HOME}/runtime")`);
  bridge = pyodide.pyimport("asgi_bridge");
  app = bridge.import_app(`${HOME}/app`);

  post({ type: "ready", seconds: (performance.now() - started) / 1000 });
  if (connectRequested) {
    openConnection();
  }
}

self.onmessage = (event) => {
  const message = event.data;
  if (message.type === "connect") {
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

boot().catch((error) => {
  post({ type: "error", message: error && error.message ? error.message : String(error) });
});
