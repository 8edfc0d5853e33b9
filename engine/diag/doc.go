// Package diag holds positioned diagnostics: errors that point at a
// file:line:col of a recipe, so a user can jump straight to the mistake.
// It must not know anything about recipes beyond positions and messages.
package diag
