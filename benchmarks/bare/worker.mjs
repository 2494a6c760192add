// Boots Pyodide from the site's pyodide/ folder and imports one module, like the app's worker
// does before it loads any package.
const indexURL = new URL("../pyodide/", import.meta.url).href;
try {
  const { loadPyodide } = await import(`${indexURL}pyodide.mjs`);
  const pyodide = await loadPyodide({ indexURL });
  pyodide.runPython("import json");
  self.postMessage({ ok: true });
} catch (error) {
  self.postMessage({ error: String(error && error.message ? error.message : error) });
}
