// Where the daemon's routes are, as this browser reaches them: under whatever path prefix a reverse
// proxy put the daemon at (this script is <root>/inspect/assets/paths.js), so nothing here is absolute.
const ROOT = new URL('../../', import.meta.url).pathname;

export const API = `${ROOT}api/v1/proxy/monitor`;
export const INSPECT = `${ROOT}inspect`;
