// Package web is the HTTP layer of `runner serve`: the JSON API under
// /api/v1/, its Server-Sent Event streams, the server-rendered dashboard and
// the security around them (bearer tokens and sign-in sessions, CSRF
// tokens, a strict Content-Security-Policy, id checks before anything
// reaches the core).
//
// It knows nothing about recipes, state folders or schedules: everything
// it shows comes from an api.Backend, and passes through the secret masker
// once more on the way out. It never touches the file system except for
// its own embedded assets, and never starts a run by itself.
package web
