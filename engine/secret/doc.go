// Package secret masks secret values as *** wherever text leaves the process:
// logs, child process output, plans, state files, reports and errors. It only
// knows strings; deciding which values are secret is the caller's business,
// with IsSecretName giving the environment-variable rule of the design.
package secret
