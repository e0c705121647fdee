// Loads the dashboard's wasm (built by wasm-bindgen into switchyard-ui.js) and marks when the
// first render is done, so that tests and the README can report time to first render.
import init from './switchyard-ui.js';
const started = performance.now();
await init();
window.__switchyardReady = performance.now() - started;
