// Page-side part of the review app: browser storage, other tabs, files, downloads and shortcuts.
//
// Runs in the page next to shiny.js, both when `shiny run` serves the app and when Python runs in a
// Web Worker. The server drives it with custom messages and reads its replies as inputs:
//   review-storage-load {dataset, total}       -> input stored_review {dataset, state, error}
//   review-storage-save {dataset, sequence, schema, position, records}
//                                              -> input storage_ack {sequence} once committed,
//                                                 or input storage_error {sequence, message}
//   review-download {filename, text}           -> saves text as a file
//   review-open-result {ok, message}           -> shows the result of opening a file
// Records saved by another tab on the same dataset arrive as input remote_records {dataset, state}.
// A file opened or dropped on the page is sent as input opened_file {upload, name, size, part, parts,
// base64}, one message per slice of the file.
(function () {
  "use strict";

  const DATABASE_NAME = "llm-data-review";
  // Version 1 kept one object per dataset in "reviews"; version 2 keeps one entry per record, so a
  // decision writes one small entry whatever the size of the dataset.
  const DATABASE_VERSION = 2;
  const RECORDS = "records";
  const SESSIONS = "sessions";
  const LEGACY_REVIEWS = "reviews";
  const STORAGE_SCHEMA = 2;

  const channel = "BroadcastChannel" in window ? new BroadcastChannel("llm-data-review") : null;

  let databasePromise = null;

  function describeError(error) {
    if (!error) return "unknown error";
    if (error.name === "QuotaExceededError") {
      return "the browser's storage quota is exceeded; free space or download your work";
    }
    return error.message ? `${error.name || "Error"}: ${error.message}` : String(error);
  }

  function requestResult(request) {
    return new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  function transactionDone(transaction) {
    return new Promise((resolve, reject) => {
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error || new Error("the write was aborted"));
    });
  }

  // Copy version 1 entries into the per-record stores. Version 1 stored the full output text of
  // changed records; it becomes the edited output, which the app drops again when it equals the file's.
  function migrateLegacyReviews(transaction) {
    const legacy = transaction.objectStore(LEGACY_REVIEWS);
    const records = transaction.objectStore(RECORDS);
    const sessions = transaction.objectStore(SESSIONS);
    legacy.openCursor().onsuccess = (event) => {
      const cursor = event.target.result;
      if (!cursor) return;
      const dataset = cursor.key;
      const state = cursor.value || {};
      sessions.put({ dataset, schema: STORAGE_SCHEMA, position: state.position || 0, migratedFrom: 1 });
      for (const [key, value] of Object.entries(state.records || {})) {
        const index = Number(key);
        // An entry that cannot be stored here would abort the upgrade, and the database could then
        // never be opened. Such an entry is skipped, and the old store keeps it.
        if (!Number.isInteger(index) || index < 0 || value === null || typeof value !== "object") continue;
        records.put({
          dataset,
          index,
          status: value.status,
          edited_output: value.output,
          labels: [],
          note: "",
        });
      }
      cursor.continue();
    };
  }

  function openDatabase() {
    return new Promise((resolve, reject) => {
      if (!window.indexedDB) {
        reject(new Error("this browser offers no IndexedDB here (private mode or blocked storage)"));
        return;
      }
      let request;
      try {
        request = indexedDB.open(DATABASE_NAME, DATABASE_VERSION);
      } catch (error) {
        reject(error);
        return;
      }
      request.onupgradeneeded = (event) => {
        const database = request.result;
        if (!database.objectStoreNames.contains(RECORDS)) {
          const records = database.createObjectStore(RECORDS, { keyPath: ["dataset", "index"] });
          records.createIndex("by_dataset", "dataset");
        }
        if (!database.objectStoreNames.contains(SESSIONS)) {
          database.createObjectStore(SESSIONS, { keyPath: "dataset" });
        }
        if (event.oldVersion === 1 && database.objectStoreNames.contains(LEGACY_REVIEWS)) {
          migrateLegacyReviews(request.transaction);
        }
      };
      request.onsuccess = () => {
        const database = request.result;
        // Another tab opening a newer version asks this one to let go.
        database.onversionchange = () => {
          database.close();
          databasePromise = null;
        };
        // The browser closes the connection when site data is cleared; the next write opens a new one.
        database.onclose = () => {
          databasePromise = null;
        };
        resolve(database);
      };
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error("the database is blocked by another tab of this site"));
    });
  }

  function getDatabase() {
    if (databasePromise === null) {
      databasePromise = openDatabase();
      // A failed open is tried again on the next call instead of being kept for the page's life.
      databasePromise.catch(() => {
        databasePromise = null;
      });
    }
    return databasePromise;
  }

  async function readState(dataset) {
    const database = await getDatabase();
    const transaction = database.transaction([RECORDS, SESSIONS], "readonly");
    const session = await requestResult(transaction.objectStore(SESSIONS).get(dataset));
    const records = await requestResult(
      transaction.objectStore(RECORDS).index("by_dataset").getAll(IDBKeyRange.only(dataset)),
    );
    if (!session && records.length === 0) return null;
    return {
      schema: session && session.schema !== undefined ? session.schema : STORAGE_SCHEMA,
      position: session ? session.position : 0,
      records: records.map(({ dataset: _dataset, ...record }) => record),
    };
  }

  async function writeState(message) {
    const database = await getDatabase();
    // With strict durability (IndexedDB 3.0) the browser flushes the write to disk before the
    // transaction completes. The app shows a decision only then, so one on screen survives a crash.
    const transaction = database.transaction([RECORDS, SESSIONS], "readwrite", { durability: "strict" });
    const records = transaction.objectStore(RECORDS);
    for (const record of message.records) {
      records.put({ dataset: message.dataset, ...record });
    }
    transaction.objectStore(SESSIONS).put({
      dataset: message.dataset,
      schema: message.schema,
      position: message.position,
      updated: Date.now(),
    });
    await transactionDone(transaction);
  }

  // Writes run one after another so that an older state can never land after a newer one.
  let writeQueue = Promise.resolve();

  function saveState(message) {
    writeQueue = writeQueue
      .then(() => writeState(message))
      .then(() => {
        document.documentElement.dataset.reviewSaved = String(message.sequence);
        Shiny.setInputValue("storage_ack", { sequence: message.sequence }, { priority: "event" });
        if (channel && message.records.length > 0) {
          channel.postMessage({
            dataset: message.dataset,
            state: { schema: message.schema, position: message.position, records: message.records },
          });
        }
      })
      .catch((error) => {
        Shiny.setInputValue(
          "storage_error",
          { sequence: message.sequence, message: describeError(error) },
          { priority: "event" },
        );
      });
  }

  async function loadState(message) {
    let reply;
    try {
      reply = { dataset: message.dataset, state: await readState(message.dataset), error: null };
    } catch (error) {
      reply = { dataset: message.dataset, state: null, error: describeError(error) };
    }
    Shiny.setInputValue("stored_review", reply, { priority: "event" });
  }

  // Everything stored for one dataset, as it is, for a reviewer to keep before starting fresh.
  async function dumpState(message) {
    const database = await getDatabase();
    const transaction = database.transaction([RECORDS, SESSIONS], "readonly");
    const session = await requestResult(transaction.objectStore(SESSIONS).get(message.dataset));
    const records = await requestResult(
      transaction.objectStore(RECORDS).index("by_dataset").getAll(IDBKeyRange.only(message.dataset)),
    );
    downloadText({
      filename: `saved-progress-${message.dataset.slice(0, 12)}.json`,
      text: JSON.stringify({ dataset: message.dataset, session, records }, null, 2),
    });
  }

  async function clearState(message) {
    const database = await getDatabase();
    const transaction = database.transaction([RECORDS, SESSIONS], "readwrite");
    const records = transaction.objectStore(RECORDS);
    const keys = await requestResult(records.index("by_dataset").getAllKeys(IDBKeyRange.only(message.dataset)));
    for (const key of keys) records.delete(key);
    transaction.objectStore(SESSIONS).delete(message.dataset);
    await transactionDone(transaction);
    Shiny.setInputValue("storage_cleared", { dataset: message.dataset, at: Date.now() }, { priority: "event" });
  }

  function reportStorageFailure(error) {
    Shiny.setInputValue("storage_error", { sequence: -1, message: describeError(error) }, { priority: "event" });
  }

  async function readRecords(dataset, indices) {
    const database = await getDatabase();
    const store = database.transaction(RECORDS, "readonly").objectStore(RECORDS);
    const entries = await Promise.all(indices.map((index) => requestResult(store.get([dataset, index]))));
    return entries.filter((entry) => entry !== undefined).map(({ dataset: _dataset, ...record }) => record);
  }

  // A message from another tab names the records it stored. They are read back from the database
  // behind this tab's queued writes, so that both tabs show what is stored even when both changed
  // the same record at once. The copy in the message is used only when that read fails.
  if (channel) {
    channel.onmessage = (event) => {
      const { dataset, state } = event.data;
      const indices = state.records.map((record) => record.index);
      writeQueue = writeQueue
        .then(() => readRecords(dataset, indices))
        .catch(() => state.records)
        .then((records) => {
          Shiny.setInputValue(
            "remote_records",
            { dataset, state: { schema: state.schema, position: state.position, records } },
            { priority: "event" },
          );
        });
    };
  }

  // Downloads.

  function downloadText(message) {
    const type = message.filename.endsWith(".jsonl") ? "application/x-ndjson" : "application/json";
    const blob = new Blob([message.text], { type });
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = message.filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
    // The browser has started reading the blob once the click is dispatched; free it a little later.
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  // Opening a file in the page. The bytes go to Python as base64 so that the dataset's id, a hash
  // of the file's bytes, matches the one a build of the same file gets. They go in slices of 256 KiB,
  // which shiny.js sends in 1-5 ms each. Measured in Chromium on a 2-core machine, one 50 MB input
  // value froze the page for about two seconds and a 1 MiB slice for up to 80 ms. Python joins the
  // slices of one upload in order.

  const MAX_FILE_BYTES = 200 * 1024 * 1024;
  const SLICE_BYTES = 256 * 1024;

  // Changes with every file opened, so that a file opened while another is still being sent stops
  // the older one.
  let currentUpload = null;

  function setOpenStatus(text, isError) {
    const status = document.getElementById("open-file-status");
    if (!status) return;
    status.textContent = text;
    status.className = isError ? "text-danger small" : "text-muted small";
    // Python's error messages put each format tried and each problem on a line of its own.
    status.style.whiteSpace = "pre-line";
  }

  // The browser encodes a data URL natively and without blocking the page, unlike btoa in script.
  function readBase64(blob) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => {
        const url = reader.result;
        const comma = url.indexOf(",");
        resolve(comma < 0 ? "" : url.slice(comma + 1));
      };
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(blob);
    });
  }

  // Yielding between slices lets the page paint the progress and handle input while a file is sent.
  function nextTask() {
    return new Promise((resolve) => setTimeout(resolve, 0));
  }

  async function openFile(file) {
    if (file.size > MAX_FILE_BYTES) {
      setOpenStatus(`${file.name} is ${(file.size / 1e6).toFixed(0)} MB; files up to 200 MB can be opened.`, true);
      return;
    }
    const upload = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    currentUpload = upload;
    const parts = Math.max(1, Math.ceil(file.size / SLICE_BYTES));

    for (let part = 0; part < parts; part++) {
      let base64;
      try {
        base64 = await readBase64(file.slice(part * SLICE_BYTES, (part + 1) * SLICE_BYTES));
      } catch (error) {
        if (currentUpload === upload) setOpenStatus(`Reading ${file.name} failed: ${describeError(error)}`, true);
        return;
      }
      if (currentUpload !== upload) return;

      // The status changes before the last slice goes out, so that it cannot replace Python's reply.
      const last = part === parts - 1;
      if (last) {
        setOpenStatus(`Parsing ${file.name} (${(file.size / 1e6).toFixed(1)} MB) in Python…`);
      } else {
        setOpenStatus(`Reading ${file.name}: ${Math.round((100 * (part + 1)) / parts)}%`);
      }
      Shiny.setInputValue(
        "opened_file",
        { upload, name: file.name, size: file.size, part, parts, base64 },
        { priority: "event" },
      );
      if (!last) await nextTask();
    }
  }

  // A chooser is created on demand and never added to the page, so Shiny does not bind it.
  function chooseFile(accept, onFile) {
    const chooser = document.createElement("input");
    chooser.type = "file";
    chooser.accept = accept;
    chooser.addEventListener("change", () => {
      if (chooser.files.length > 0) onFile(chooser.files[0]);
    });
    chooser.click();
  }

  function loadProgressFile(file) {
    file.text().then(
      (text) => Shiny.setInputValue("progress_file", { name: file.name, text }, { priority: "event" }),
      (error) => setOpenStatus(`Reading ${file.name} failed: ${describeError(error)}`, true),
    );
  }

  document.addEventListener("dragover", (event) => {
    if (event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files")) {
      event.preventDefault();
      document.body.classList.add("file-drag");
    }
  });
  document.addEventListener("dragleave", (event) => {
    if (event.relatedTarget === null) document.body.classList.remove("file-drag");
  });
  document.addEventListener("drop", (event) => {
    document.body.classList.remove("file-drag");
    if (event.dataTransfer && event.dataTransfer.files.length > 0) {
      event.preventDefault();
      openFile(event.dataTransfer.files[0]);
    }
  });

  function showOpenResult(message) {
    setOpenStatus(message.message, !message.ok);
  }

  // Keyboard shortcuts. Single keys act only outside text fields. Ctrl+Enter (Cmd+Enter on macOS)
  // accepts from anywhere, and sends the editor's text and the note first, so that the accepted
  // record keeps what is shown.

  const KEY_BUTTONS = {
    a: "accept",
    r: "reject",
    j: "next",
    ArrowRight: "next",
    k: "back",
    ArrowLeft: "back",
    x: "reset",
    u: "undo",
    p: "next_pending",
  };
  const KEY_FIELDS = { e: "output_text", n: "note", "/": "search" };
  // Enter in these fields presses the button next to them, as it would in a form.
  const ENTER_BUTTONS = { new_label: "add_label", jump_to: "jump" };

  // Where focus was before the help opened, to return it there when the help closes.
  let focusBeforeHelp = null;

  function helpPanel() {
    return document.getElementById("shortcut-help");
  }

  function toggleHelp(show) {
    const panel = helpPanel();
    if (!panel) return;
    const visible = show === undefined ? panel.hidden : show;
    if (visible === !panel.hidden) return;
    panel.hidden = !visible;
    if (visible) {
      focusBeforeHelp = document.activeElement;
      document.getElementById("close-shortcuts").focus();
    } else if (focusBeforeHelp && focusBeforeHelp.isConnected) {
      focusBeforeHelp.focus();
      focusBeforeHelp = null;
    }
  }

  function clickButton(id) {
    const button = document.getElementById(id);
    if (button && !button.disabled) button.click();
  }

  // A single key on an input that takes no typed text is a shortcut, so that a reviewer can tick a
  // label with Space and go on with "a" or "r".
  const KEYLESS_INPUT_TYPES = new Set(["button", "checkbox", "color", "file", "image", "reset", "submit"]);

  function isTextField(element) {
    if (!(element instanceof HTMLElement)) return false;
    if (element instanceof HTMLInputElement) return !KEYLESS_INPUT_TYPES.has(element.type);
    return element.closest("textarea, select, [contenteditable='true']") !== null;
  }

  // Send a field's value now instead of after Shiny's 250 ms debounce, so that a button pressed next
  // reads it. Shiny's text and number bindings send at once on "change".
  function sendFieldNow(field) {
    field.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing) return;

    // The open help is modal. Focus stays on its Close button, and only ? and Esc act.
    const panel = helpPanel();
    if (panel && !panel.hidden) {
      if (event.key === "Escape" || event.key === "?") {
        event.preventDefault();
        toggleHelp(false);
      } else if (event.key === "Tab") {
        event.preventDefault();
        document.getElementById("close-shortcuts").focus();
      }
      return;
    }

    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      const editor = document.getElementById("output_text");
      if (editor) Shiny.setInputValue("output_text", editor.value);
      const note = document.getElementById("note");
      if (note) sendFieldNow(note);
      clickButton("accept");
      return;
    }

    if (event.key === "Escape") {
      if (isTextField(event.target)) event.target.blur();
      return;
    }

    if (event.key === "Enter" && !event.shiftKey && ENTER_BUTTONS[event.target.id]) {
      event.preventDefault();
      sendFieldNow(event.target);
      clickButton(ENTER_BUTTONS[event.target.id]);
      return;
    }

    if (isTextField(event.target) || event.altKey || event.ctrlKey || event.metaKey) return;

    if (event.key === "?") {
      event.preventDefault();
      toggleHelp();
    } else if (KEY_BUTTONS[event.key]) {
      event.preventDefault();
      clickButton(KEY_BUTTONS[event.key]);
    } else if (KEY_FIELDS[event.key]) {
      event.preventDefault();
      const field = document.getElementById(KEY_FIELDS[event.key]);
      if (field) field.focus();
    }
  });

  document.addEventListener("click", (event) => {
    if (event.target.id === "open-file") chooseFile(".json,.jsonl,.ndjson,.jsonlines,.traj,application/json", openFile);
    if (event.target.id === "load-progress") chooseFile(".json,application/json", loadProgressFile);
    if (event.target.id === "show-shortcuts") toggleHelp(true);
    if (event.target.id === "close-shortcuts" || event.target.id === "shortcut-help") toggleHelp(false);
  });

  Shiny.addCustomMessageHandler("review-storage-load", loadState);
  Shiny.addCustomMessageHandler("review-storage-save", saveState);
  Shiny.addCustomMessageHandler("review-download", downloadText);
  Shiny.addCustomMessageHandler("review-open-result", showOpenResult);
  Shiny.addCustomMessageHandler("review-storage-dump", (message) => dumpState(message).catch(reportStorageFailure));
  Shiny.addCustomMessageHandler("review-storage-clear", (message) => clearState(message).catch(reportStorageFailure));
})();
