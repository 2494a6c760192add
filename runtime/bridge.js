// Page side of the static site: connects shiny.js to the Python app running in a Web Worker.
//
// This script must run after shiny.js and before DOMContentLoaded: shiny.js connects on document
// ready by calling Shiny.createSocket(), so the hook has to be in place by then. It returns a socket
// object at once; Shiny queues its messages until the worker reports that the app has accepted the
// connection. While Python boots, a status panel says what is loading, and a boot failure replaces
// it with the error and what to do.
(function () {
  "use strict";

  const WORKER_URL = new URL("runtime/worker.mjs", document.baseURI);

  const panel = document.createElement("div");
  panel.id = "boot-status";
  panel.setAttribute("role", "status");
  panel.setAttribute("aria-live", "polite");
  const panelText = document.createElement("p");
  panelText.textContent = "Loading the review app…";
  panel.appendChild(panelText);
  document.body.appendChild(panel);
  document.documentElement.dataset.bootState = "loading";

  function showProgress(text) {
    panelText.textContent = `${text}…`;
  }

  function showError(text) {
    document.documentElement.dataset.bootState = "failed";
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
    document.documentElement.dataset.bootState = "ready";
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

  let worker;
  try {
    if (location.protocol === "file:") {
      throw new Error("the page was opened from a file, and browsers do not start workers there");
    }
    worker = new Worker(WORKER_URL, { type: "module" });
  } catch (error) {
    showError(error.message || String(error));
    return;
  }

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
        document.documentElement.dataset.bootSeconds = message.seconds.toFixed(2);
        break;
      case "open":
        socket.readyState = 1;
        hidePanel();
        if (socket.onopen) socket.onopen({ type: "open" });
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

  window.Shiny.createSocket = function () {
    worker.postMessage({ type: "connect" });
    return socket;
  };
})();
