// The roomtemp API, as the dashboard asks it. URLs are relative to the page, so that the
// dashboard also works behind a proxy that serves roomtemp under a path prefix.

const TOKEN_KEY = "roomtemp.token";

/** The server wants a token (401): none was given, or it was refused. */
export class Unauthorized extends Error {}

/** Any other answer than 2xx, with the problem's machine code when the server sent one. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? `the server answered ${status}`);
    this.status = status;
    this.code = problem?.code ?? null;
  }
}

export function savedToken() {
  return localStorage.getItem(TOKEN_KEY) ?? "";
}

export function saveToken(token) {
  if (token) {
    localStorage.setItem(TOKEN_KEY, token);
  } else {
    localStorage.removeItem(TOKEN_KEY);
  }
}

/** The path of a room's resource: room ids are any text, spaces and slashes included. */
export function roomPath(roomId, ...rest) {
  return ["measurements", encodeURIComponent(roomId), ...rest].join("/");
}

/** GET path?query as JSON. Throws Unauthorized on 401 and ApiError on other failures. */
export async function getJson(path, query = {}) {
  return (await get(path, query)).json();
}

/**
 * A page of a paged list (GET /rooms): its items, and the cursor of the next page, named by
 * the answer's Link header (rel="next"), or null on the last one.
 */
export async function getPage(path, query = {}) {
  const response = await get(path, query);
  const next = /<([^>]*)>\s*;\s*rel="next"/.exec(response.headers.get("Link") ?? "");
  const cursor = next ? new URL(next[1], document.baseURI).searchParams.get("cursor") : null;
  return { items: await response.json(), cursor };
}

async function get(path, query) {
  const url = new URL(path, document.baseURI);
  for (const [name, value] of Object.entries(query)) {
    url.searchParams.set(name, value);
  }
  const headers = { Accept: "application/json" };
  const token = savedToken();
  if (token) {
    headers.Authorization = `Bearer ${token}`;
  }
  const response = await fetch(url, { headers });
  if (response.status === 401) {
    throw new Unauthorized(token ? "the token was refused" : "a token is needed");
  }
  if (!response.ok) {
    throw new ApiError(response.status, await problemOf(response));
  }
  return response;
}

async function problemOf(response) {
  try {
    return await response.json();
  } catch {
    return null; // not problem+json: a proxy's error page, say
  }
}
