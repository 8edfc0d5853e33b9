// Package githubrelease is the built-in task type `github_release`: create or update the GitHub Release of a tag, upload its assets, publish it when asked.
// Registered with the others in package tasks.
//
// It talks to the GitHub REST API through go-github, to api.github.com or
// to a GitHub Enterprise server (`https://HOST/api/v3`). The token comes
// from the environment and is registered with the run's secret masker
// before anything can print it; every message the type writes passes
// through the masker too. A dry run reads (finds the release, lists its
// assets) and never writes.
package githubrelease

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
)

// Params are the params of the github_release task.
type Params struct {
	// Tag of the release, e.g. v11.0.0; required unless check: true. The tag need not exist yet: GitHub creates it from target_commitish when the release is published.
	Tag string `yaml:"tag" json:"tag"`
	// Title of the release; the tag when empty.
	Name string `yaml:"name" json:"name"`
	// Release notes, Markdown: the release's body.
	Notes string `yaml:"notes" json:"notes"`
	// Files to attach (paths or globs, relative to the recipe); each is named by its base name.
	Assets []string `yaml:"assets" json:"assets"`
	// Keep the release a draft. A new release is always created as a draft, so that no one sees it before its assets are there; with draft: false it is published at the end, like publish: true.
	Draft bool `yaml:"draft" json:"draft" default:"true"`
	// Publish the release (draft → published) once its notes and assets are in place. A published release is never turned back into a draft.
	Publish bool `yaml:"publish" json:"publish"`
	// When publishing: make it the repository's latest release (true), not (false), or let GitHub decide by date and version (legacy). Empty: GitHub's default.
	Latest string `yaml:"latest" json:"latest" enum:",true,false,legacy"`
	// Mark the release as a pre-release.
	Prerelease bool `yaml:"prerelease" json:"prerelease"`
	// owner/name; default: env GITHUB_REPOSITORY, else the origin remote of the git repository at dir.
	Repository string `yaml:"repository" json:"repository"`
	// The git repository whose origin remote names the repository when neither repository nor GITHUB_REPOSITORY does: its work tree or a folder inside it; the recipe's folder when empty.
	Dir params.Path `yaml:"dir" json:"dir"`
	// API base URL; default: env GITHUB_API_URL when set (https://HOST/api/v3 on GitHub Enterprise), else https://api.github.com. Uploads go to the matching uploads host.
	APIURL string `yaml:"api_url" json:"api_url"`
	// Branch or commit the tag is created from when it does not exist yet; GitHub's default branch when empty.
	TargetCommitish string `yaml:"target_commitish" json:"target_commitish"`
	// Environment variable holding the token (a token with contents: write on the repository).
	TokenEnv string `yaml:"token_env" json:"token_env" default:"GITHUB_TOKEN"`
	// Only check that the token is set and that it can read the repository and write releases; change nothing.
	Check bool `yaml:"check" json:"check"`
	// Tries per request: 5xx answers, network errors and rate limits (403/429 with Retry-After or X-RateLimit-Reset) are tried again.
	Attempts int `yaml:"attempts" json:"attempts" default:"5"`
	// Longest wait between tries; the server's Retry-After or rate-limit reset is honoured up to it.
	MaxDelay time.Duration `yaml:"max_delay" json:"max_delay" default:"60s"`
}

// Register adds the github_release task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: fieldDoc,
		Name:      "github_release",
		Summary:   "Create or update the GitHub Release of a tag, upload its assets, publish it when asked.",
		Doc: "Finds the release of `tag` in `repository` (a published one by its tag; a draft, which GitHub does not " +
			"return by tag, by listing the releases), creates it as a draft when there is none, and sets its name, " +
			"notes and pre-release flag. Each of `assets` is uploaded with a content type from its name; an asset " +
			"already there with the same name and the same bytes (SHA-256 digest when GitHub gives one, else the size " +
			"and then the downloaded bytes) is left alone, a changed or half-uploaded one is deleted and uploaded again. " +
			"With `publish: true` the draft is then published (and made latest as `latest` says). Safe to repeat: a " +
			"second run with the same inputs changes nothing. The token is read from the environment variable " +
			"`token_env` (GITHUB_TOKEN), needs contents: write, and is masked everywhere; without it the task fails " +
			"before writing anything. Works with GitHub Enterprise through `api_url`. 5xx answers, network errors and " +
			"rate limits are tried again after the server's Retry-After. A dry run reads the release and says what " +
			"would be created, updated, uploaded, replaced and published.\n\n" +
			"With `check: true` it only checks, changing nothing: it resolves the token, the API URL and the repository " +
			"as a run does, reads the repository once (GET /repos/{owner}/{repo}, tried again like every request) and " +
			"fails, before anything is tagged or built, when the token variable is unset or empty, when GitHub refuses " +
			"the token (401), when the repository is not found or the token cannot see it (404), or when the token " +
			"cannot write it (permissions.push false). `tag` and the release params are not needed then; the outputs " +
			"say nothing changed. A dry run of check: true makes the same read, since it changes nothing.",
		Outputs: []tasktype.Output{
			{Name: "id", Type: "integer", Doc: "The release's id."},
			{Name: "url", Type: "string", Doc: "The release's page (html_url)."},
			{Name: "upload_url", Type: "string", Doc: "The release's upload URL template, as GitHub gives it."},
			{Name: "uploaded", Type: "list of string", Doc: "Names of the assets sent (new or replaced)."},
			{Name: "unchanged", Type: "list of string", Doc: "Names of the assets already there with the same bytes."},
			{Name: "published", Type: "boolean", Doc: "Whether the release is published (not a draft) at the end."},
			{Name: "draft", Type: "boolean", Doc: "Whether the release is still a draft."},
			{Name: "repository", Type: "string", Doc: "The repository, owner/name, as resolved."},
		},
		Examples: []tasktype.Example{
			{Title: "Draft the release of v11.0.0 with its notes and assets; publish when PUBLISH=true", YAML: `draft-release:
  uses: github_release
  with:
    tag: v11.0.0
    name: Factory 11.0.0
    notes: |
      ## Features
      - One command releases the factory.
    assets:
      - dist/factory-11.0.0.zip
      - dist/SHA256SUMS
    publish: ${{ env.PUBLISH == 'true' }}
    latest: "true"
`},
			{Title: "On GitHub Enterprise, for another repository", YAML: `release:
  uses: github_release
  with:
    tag: v2.3.0
    repository: books/factory
    api_url: https://github.example.com/api/v3
    token_env: GHE_TOKEN
    assets: [dist/*.zip]
`},
			{Title: "Before tagging: fail now if GITHUB_TOKEN is missing or cannot write releases", YAML: `check-token:
  uses: github_release
  with:
    check: true
`},
		},
		Check: check,
		Plan: func(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			if p.Check {
				return planPreflight(ctx, env, p, defaultDeps())
			}
			return planRelease(ctx, env, p, defaultDeps())
		},
		Run: func(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
			if p.Check {
				return runPreflight(ctx, env, p, defaultDeps())
			}
			return runRelease(ctx, env, p, defaultDeps())
		},
	})
}

// check validates params that need no environment.
func check(p *Params) error {
	switch {
	case strings.TrimSpace(p.Tag) == "" && !p.Check:
		return params.Errorf("tag", "the tag is empty: it is required (only check: true goes without one)")
	case strings.ContainsAny(p.Tag, " \t\n~^:?*[\\"):
		return params.Errorf("tag", "%q is not a valid git tag name", p.Tag)
	case p.Repository != "" && !validRepo(p.Repository):
		return params.Errorf("repository", "%q is not owner/name", p.Repository)
	case p.TokenEnv == "":
		return params.Errorf("token_env", "name the environment variable that holds the token")
	case p.Attempts < 1:
		return params.Errorf("attempts", "attempts counts every try, the first too: at least 1, not %d", p.Attempts)
	case p.MaxDelay < 0:
		return params.Errorf("max_delay", "the delay cannot be negative")
	}
	return nil
}

// validRepo reports whether s reads owner/name.
func validRepo(s string) bool {
	owner, name, ok := strings.Cut(s, "/")
	return ok && owner != "" && name != "" && !strings.ContainsAny(s, " \t\n?#") && !strings.Contains(name, "/")
}

// errorf is the type's error, its text free of the token: m masks it.
func errorf(format string, args ...any) error {
	return fmt.Errorf("github_release: "+format, args...)
}
