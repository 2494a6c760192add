// Page-side helpers of the review app: browser storage and file downloads.
//
// Runs in the page, next to shiny.js, both when the app is served by `shiny run` and when Python
// runs in a Web Worker. The server drives it with custom messages:
//   review-storage-load {key}         -> replies with input `stored_review` = {state, error}
//   review-storage-save {key, state}  -> writes `state` under `key`; failures set input `storage_error`
//   review-download {filename, text}  -> saves `text` as a JSON file
(function () {
  "use strict";

  const DATABASE_NAME = "llm-data-review";
  const STORE_NAME = "reviews";

  let databasePromise = null;

  function openDatabase() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DATABASE_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE_NAME);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error("the database is blocked by another tab"));
    });
  }

  function getDatabase() {
    if (databasePromise === null) {
      databasePromise = openDatabase();
      // A failed open is retried on the next call instead of being cached for the page's life.
      databasePromise.catch(() => {
        databasePromise = null;
      });
    }
    return databasePromise;
  }

  async function readState(key) {
    const database = await getDatabase();
    return new Promise((resolve, reject) => {
      const request = database.transaction(STORE_NAME, "readonly").objectStore(STORE_NAME).get(key);
      request.onsuccess = () => resolve(request.result === undefined ? null : request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function writeState(key, state) {
    const database = await getDatabase();
    return new Promise((resolve, reject) => {
      const transaction = database.transaction(STORE_NAME, "readwrite");
      transaction.objectStore(STORE_NAME).put(state, key);
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error || new Error("the write was aborted"));
    });
  }

  function describeError(error) {
    return error && error.message ? error.message : String(error);
  }

  // Writes run one after another so that an older state can never land after a newer one.
  let pendingWrite = Promise.resolve();

  function saveState(message) {
    pendingWrite = pendingWrite
      .then(() => writeState(message.key, message.state))
      .then(() => {
        document.documentElement.dataset.reviewSaved = String(Date.now());
      })
      .catch((error) => {
        Shiny.setInputValue("storage_error", describeError(error), { priority: "event" });
      });
  }

  async function loadState(message) {
    let reply;
    try {
      reply = { state: await readState(message.key), error: null };
    } catch (error) {
      reply = { state: null, error: describeError(error) };
    }
    Shiny.setInputValue("stored_review", reply, { priority: "event" });
  }

  function downloadText(message) {
    const blob = new Blob([message.text], { type: "application/json" });
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = message.filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
    // The browser has read the blob once the click has been dispatched; free it a little later.
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  Shiny.addCustomMessageHandler("review-storage-load", loadState);
  Shiny.addCustomMessageHandler("review-storage-save", saveState);
  Shiny.addCustomMessageHandler("review-download", downloadText);
})();
