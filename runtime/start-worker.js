// Inlined at the top of the page's <head> by the build: starts Python's worker before the page's
// other scripts load, so that Pyodide boots while they do. runtime/bridge.js takes the worker over
// and replays the messages and the error that arrived before it ran.
(function () {
  "use strict";

  const early = { worker: null, messages: [], error: null };
  window.llmReviewEarlyWorker = early;

  // Browsers start no worker for a page opened from a file; bridge.js explains that in the page.
  if (location.protocol === "file:") return;

  try {
    const worker = new Worker(new URL("runtime/worker.mjs", document.baseURI), { type: "module" });
    worker.onmessage = (event) => early.messages.push(event);
    worker.onerror = (event) => {
      early.error = event;
    };
    worker.postMessage({ type: "start", compressed: location.hash !== "#no-gzip" });
    early.worker = worker;
  } catch (error) {
    early.error = error;
  }
})();
