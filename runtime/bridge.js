// Page side of the static site: connects shiny.js to the Python app running in a Web Worker, and
// keeps the site's service worker (sw.js at the site root) up to date.
//
// This script must run after shiny.js and before DOMContentLoaded: shiny.js connects on document
// ready by calling Shiny.createSocket(), so the hook has to be in place by then. It returns a socket
// object at once; Shiny queues its messages until the worker reports that the app has accepted the
// connection. While Python boots, a status panel says what is loading, and a boot failure replaces
// it with the error and what to do.
//
// Versions: the page carries its build id in <meta name="llm-review-build">, and the worker reports
// the id of the config.json it booted from; if they differ, the page and the runtime come from two
// builds, and the page reloads once to get one build. The service worker is registered once the
// app runs, so that its downloads don't slow the first boot. On later visits the page looks for a
// new build while Python boots, and before showing the app it waits a few seconds for a new build
// to install; then it lets the new build take over and reloads. A new build that takes longer to
// install takes over at the start of the next visit. The app is never shown and then reloaded, so
// no one's unsaved input is lost.
//
// Appending #no-gzip to the page's URL makes the worker download uncompressed files (used by the
// benchmark to compare).
(function () {
  "use strict";

  const WORKER_URL = new URL("runtime/worker.mjs", document.baseURI);
  const SERVICE_WORKER_URL = new URL("../sw.js", document.baseURI);
  const SITE_ROOT = new URL("../", document.baseURI);
  const RELOAD_FLAG = "llm-review-reloaded-for-build";

  const root = document.documentElement;
  const buildMeta = document.querySelector('meta[name="llm-review-build"]');
  const pageBuildId = buildMeta ? buildMeta.content : "";
  root.dataset.buildId = pageBuildId;

  const panel = document.createElement("div");
  panel.id = "boot-status";
  panel.setAttribute("role", "status");
  panel.setAttribute("aria-live", "polite");
  const panelText = document.createElement("p");
  panelText.textContent = "Loading the review app…";
  panel.appendChild(panelText);
  document.body.appendChild(panel);
  root.dataset.bootState = "loading";

  function showProgress(text) {
    panelText.textContent = `${text}…`;
  }

  function showError(text) {
    root.dataset.bootState = "failed";
    panel.classList.add("boot-failed");
    panel.setAttribute("role", "alert");
    panelText.textContent = `The review app could not start: ${text}`;
    const hint = document.createElement("p");
    hint.textContent =
      "Serve the site over HTTP (for example: python build.py --serve) and reload the page. " +
      "Opening the files directly from disk (file://) does not work.";
    panel.appendChild(hint);
  }

  function hidePanel() {
    root.dataset.bootState = "ready";
    panel.hidden = true;
  }

  // A WebSocket look-alike: shiny.js sets the on* handlers and calls send() and close().
  const socket = {
    readyState: 0,
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
    send(text) {
      worker.postMessage({ type: "send", text });
    },
    close() {
      socket.readyState = 3;
      worker.postMessage({ type: "close" });
    },
  };

  // Service worker ------------------------------------------------------------------------------

  const serviceWorkers = "serviceWorker" in navigator ? navigator.serviceWorker : null;
  // How long the page waits for the update check, and then for a new build's install, before it
  // shows the app from the current build. A new build that is slower takes over on the next visit.
  const UPDATE_CHECK_WAIT_MS = 5000;
  const INSTALL_WAIT_MS = 15000;
  let reloading = false;

  function wait(milliseconds) {
    return new Promise((resolve) => setTimeout(resolve, milliseconds));
  }

  function reloadIntoNewBuild() {
    if (reloading) return;
    reloading = true;
    if (worker) worker.terminate();
    showProgress("Loading the new version of the app");
    location.reload();
  }

  // Let a waiting build take over; the page reloads when it controls the page. Only called
  // before the app is shown, so no one's unsaved input is lost.
  function activate(waiting) {
    serviceWorkers.addEventListener("controllerchange", reloadIntoNewBuild, { once: true });
    waiting.postMessage("activate");
  }

  // Resolve when `installing` is installed, redundant or activated, or after `milliseconds`.
  function settled(installing, milliseconds) {
    const done = new Promise((resolve) => {
      const check = () => {
        if (["installed", "activated", "redundant"].includes(installing.state)) resolve();
      };
      installing.addEventListener("statechange", check);
      check();
    });
    return Promise.race([done, wait(milliseconds)]);
  }

  function trackState(registration) {
    const installing = registration.installing;
    if (!installing) return;
    root.dataset.serviceWorker = "installing";
    installing.addEventListener("statechange", () => {
      if (installing.state === "installed" && registration.active) {
        root.dataset.serviceWorker = "waiting";
      } else if (installing.state === "activated") {
        root.dataset.serviceWorker = "active";
      } else if (installing.state === "redundant") {
        root.dataset.serviceWorker = registration.active ? "active" : "failed";
      }
    });
  }

  // On a visit under an existing service worker, while Python boots: apply a build that finished
  // installing earlier, or look for a newer build and wait a little for it to install.
  async function checkForNewBuild() {
    const registration = await serviceWorkers.getRegistration(SITE_ROOT.href);
    if (!registration) return;
    root.dataset.serviceWorker = registration.waiting ? "waiting" : "active";
    if (!registration.waiting) {
      await Promise.race([registration.update(), wait(UPDATE_CHECK_WAIT_MS)]);
      const installing = registration.installing;
      if (installing) {
        trackState(registration);
        showProgress("Loading the new version of the app");
        await settled(installing, INSTALL_WAIT_MS);
      }
    }
    if (registration.waiting) {
      activate(registration.waiting);
      // Keep the app hidden until the reload.
      await wait(INSTALL_WAIT_MS);
    }
  }

  async function registerServiceWorker() {
    const registration = await serviceWorkers.register(SERVICE_WORKER_URL.href, { scope: SITE_ROOT.href });
    if (registration.installing) {
      trackState(registration);
    } else if (registration.active && !registration.waiting) {
      root.dataset.serviceWorker = "active";
    }
  }

  function reportServiceWorkerError(error) {
    // The app works without a service worker, only not offline; say why in the console.
    console.warn(`Service worker: ${error && error.message ? error.message : error}`);
  }

  // Worker --------------------------------------------------------------------------------------

  function checkBuild(workerBuildId) {
    root.dataset.workerBuildId = workerBuildId;
    if (!pageBuildId || workerBuildId === pageBuildId) {
      sessionStorage.removeItem(RELOAD_FLAG);
      return true;
    }
    console.warn(`The page is from build ${pageBuildId} but the runtime from build ${workerBuildId}; reloading`);
    if (sessionStorage.getItem(RELOAD_FLAG) !== workerBuildId) {
      sessionStorage.setItem(RELOAD_FLAG, workerBuildId);
      reloadIntoNewBuild();
    } else {
      showError(`the page is from build ${pageBuildId} but the runtime from build ${workerBuildId}; reload the page`);
    }
    return false;
  }

  // The page's <head> starts the worker early (runtime/start-worker.js), when the build put that
  // script there; otherwise it starts here.
  const early = window.llmReviewEarlyWorker || null;
  let worker = early && early.worker;
  if (!worker) {
    try {
      if (location.protocol === "file:") {
        throw new Error("the page was opened from a file, and browsers do not start workers there");
      }
      if (early && early.error) throw early.error;
      worker = new Worker(WORKER_URL, { type: "module" });
    } catch (error) {
      showError(error.message || String(error));
      return;
    }
    worker.postMessage({ type: "start", compressed: location.hash !== "#no-gzip" });
  }

  const updateCheck =
    serviceWorkers && serviceWorkers.controller
      ? checkForNewBuild().catch(reportServiceWorkerError)
      : Promise.resolve();

  worker.onerror = (event) => {
    showError(event.message || `the worker script ${WORKER_URL} failed to load`);
  };

  worker.onmessage = (event) => {
    const message = event.data;
    switch (message.type) {
      case "progress":
        showProgress(message.text);
        break;
      case "ready":
        root.dataset.bootSeconds = message.seconds.toFixed(2);
        root.dataset.bootTimings = JSON.stringify(message.timings);
        if (!checkBuild(message.buildId)) {
          worker.terminate();
        }
        break;
      case "open":
        updateCheck.then(() => {
          if (reloading) return;
          socket.readyState = 1;
          hidePanel();
          if (socket.onopen) socket.onopen({ type: "open" });
          if (serviceWorkers) {
            registerServiceWorker().catch(reportServiceWorkerError);
          }
        });
        break;
      case "message":
        if (socket.onmessage) socket.onmessage({ data: message.text });
        break;
      case "close":
        socket.readyState = 3;
        if (socket.onclose) socket.onclose({ code: message.code, wasClean: true });
        break;
      case "error":
        showError(message.message);
        break;
    }
  };

  // Messages and an error the early worker sent before this script ran, in order.
  if (early && early.worker) {
    for (const event of early.messages.splice(0)) worker.onmessage(event);
    if (early.error) worker.onerror(early.error);
  }

  window.Shiny.createSocket = function () {
    worker.postMessage({ type: "connect" });
    return socket;
  };
})();
