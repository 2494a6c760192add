// Build-time tool, run under Node.js by sitebuild/runtime.py: byte-compiles Python files with the
// browser's own interpreter (Pyodide's CPython 3.14), so that the .pyc files match the version and
// magic number the page runs. CPython on the build machine is a different version and can't.
//
//   node runtime/compile_bytecode.mjs PYODIDE_DIR WORK_DIR [MODULE...]
//
// WORK_DIR is mounted into Pyodide's file system at /work. The named modules are imported from
// WORK_DIR/site-packages and WORK_DIR/python, and each module that got loaded is compiled: one from
// site-packages into its __pycache__/ folder, one from the standard library's zip (unpacked in
// WORK_DIR/stdlib) into a legacy-layout NAME.pyc next to its NAME.py, which is the layout zipimport
// reads. Without these, Pyodide compiles the same modules from source on every page load. Modules
// the app does not import at start-up stay source-only, which keeps the download small. Sources are
// kept everywhere, because some packages read them (anyio parses its own __init__.py) and
// tracebacks show them.
//
// Every .pyc uses unchecked hash-based invalidation: the browser never compares it with its source,
// so the files' modification times (which a zip and Pyodide's file system don't preserve) don't
// matter, and the output is the same for the same input.

import path from "node:path";
import { pathToFileURL } from "node:url";

const COMPILE = `
import importlib
import importlib.util
import py_compile
import sys

UNCHECKED = py_compile.PycInvalidationMode.UNCHECKED_HASH
major, minor = sys.version_info[:2]
stdlib_zip = f"/lib/python{major}{minor}.zip/"
site_packages = "/work/site-packages/"
browser_site_packages = f"/lib/python{major}.{minor}/site-packages/"

# Import from sources without writing timestamp-based .pyc files; the loop below writes the
# hash-based ones.
sys.dont_write_bytecode = True
sys.path[0:0] = [site_packages, "/work/python"]
for name in MODULES:
    importlib.import_module(name)

compiled = 0
for module in list(sys.modules.values()):
    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None) or ""
    if not origin.endswith(".py"):
        continue
    if origin.startswith(site_packages):
        relative = origin[len(site_packages):]
        cfile = importlib.util.cache_from_source(origin)
        dfile = browser_site_packages + relative
    elif origin.startswith(stdlib_zip):
        relative = origin[len(stdlib_zip):]
        origin = "/work/stdlib/" + relative
        cfile = origin[:-3] + ".pyc"
        dfile = stdlib_zip + relative
    else:
        continue
    py_compile.compile(origin, cfile=cfile, dfile=dfile, doraise=True, invalidation_mode=UNCHECKED)
    compiled += 1

compiled
`;

async function main() {
  const [pyodideDir, workDir, ...modules] = process.argv.slice(2);
  if (!pyodideDir || !workDir) {
    console.error("usage: node compile_bytecode.mjs PYODIDE_DIR WORK_DIR [MODULE...]");
    process.exit(2);
  }

  const indexURL = path.resolve(pyodideDir) + path.sep;
  const { loadPyodide } = await import(pathToFileURL(path.join(indexURL, "pyodide.mjs")).href);
  const pyodide = await loadPyodide({ indexURL });
  pyodide.FS.mkdirTree("/work");
  pyodide.mountNodeFS("/work", path.resolve(workDir));

  pyodide.globals.set("MODULES", pyodide.toPy(modules));
  const compiled = pyodide.runPython(COMPILE);
  console.log(`Compiled ${compiled} modules`);
}

try {
  await main();
} catch (error) {
  // Print only the message: Node's default report of an error thrown from Pyodide's minified code
  // would quote a whole 60 KB line of it.
  console.error(error && error.message ? error.message : String(error));
  process.exit(1);
}
