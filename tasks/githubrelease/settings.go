package githubrelease

import (
	"context"
	"net"
	"net/url"
	"os/exec"
	"strings"
	"time"

	"github.com/novelfactory/runner/engine/tasktype"
)

// defaultAPI is github.com's API; GITHUB_API_URL or api_url name another.
const defaultAPI = "https://api.github.com"

// deps are what tests replace: the waits between tries, the clock that
// reads a rate limit's reset time, and how the origin remote is read.
type deps struct {
	sleep  func(ctx context.Context, d time.Duration) error
	now    func() time.Time
	origin func(ctx context.Context, dir string) (string, error)
}

func defaultDeps() deps {
	return deps{sleep: sleep, now: time.Now, origin: gitOrigin}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// settings are the params completed from the environment.
type settings struct {
	owner, repo string
	apiURL      string
	token       string
}

// resolve completes p from env: the token (registered with the masker at
// once), the repository and the API URL. A missing token is an error
// that says which variable to set and the scope it needs.
func resolve(ctx context.Context, env *tasktype.Env, p *Params, d deps) (settings, error) {
	var s settings
	s.token = env.Getenv(p.TokenEnv)
	if s.token != "" && env.Secrets != nil {
		env.Secrets.Add(s.token)
	}
	repo := p.Repository
	if repo == "" {
		repo = env.Getenv("GITHUB_REPOSITORY")
	}
	if repo == "" {
		dir := string(p.Dir)
		if dir == "" {
			dir = env.Dir
		}
		remote, err := d.origin(ctx, dir)
		if err != nil || remote == "" {
			return s, errorf("no repository: set repository: owner/name, or GITHUB_REPOSITORY, or point dir at a git repository with an origin remote on GitHub (%s has none)", dir)
		}
		if repo = repoFromRemote(remote); repo == "" {
			return s, errorf("no repository: the origin remote %q does not name owner/name; set repository: owner/name", remote)
		}
	}
	if !validRepo(repo) {
		return s, errorf("repository %q is not owner/name", repo)
	}
	s.owner, s.repo, _ = strings.Cut(repo, "/")
	s.apiURL = p.APIURL
	if s.apiURL == "" {
		s.apiURL = env.Getenv("GITHUB_API_URL")
	}
	if s.apiURL == "" {
		s.apiURL = defaultAPI
	}
	if u, err := url.Parse(s.apiURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return s, errorf("api_url %q is not an http(s) URL such as https://github.example.com/api/v3", s.apiURL)
	} else if u.Scheme == "http" && !loopback(u.Hostname()) {
		// Every request carries the token: plain http only to this machine.
		return s, errorf("api_url %q is plain http to another machine, which would send the token in clear: use https", s.apiURL)
	}
	if s.token == "" {
		return s, errorf("no token: set the environment variable %s to a GitHub token with contents: write on %s "+
			"(fine-grained: Contents read and write; classic: repo, or public_repo for a public repository)", p.TokenEnv, repo)
	}
	if strings.ContainsFunc(s.token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		// Go's HTTP client refuses such a header on every try, and says only
		// "invalid header field value": name the cause, and do not retry.
		return s, errorf("the token in %s has a space, tab or line break in it (copied with its newline?): set it to the token alone", p.TokenEnv)
	}
	return s, nil
}

// loopback reports whether host is this machine: localhost or a loopback IP.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// gitOrigin returns the URL of the origin remote of the git repository
// holding dir.
func gitOrigin(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", "config", "--get", "remote.origin.url")
	cmd.Dir = dir
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

// repoFromRemote reads owner/name from a git remote URL: https
// (https://github.com/owner/name.git), ssh (ssh://git@host/owner/name.git)
// or scp-like (git@github.com:owner/name.git). It returns "" when the URL
// names no owner/name.
func repoFromRemote(remote string) string {
	var path string
	if u, err := url.Parse(remote); err == nil && u.Scheme != "" && u.Host != "" {
		path = u.Path
	} else if _, after, ok := strings.Cut(remote, ":"); ok && !strings.Contains(remote, "://") {
		path = after // user@host:owner/name.git
	} else {
		return ""
	}
	path = strings.TrimSuffix(strings.Trim(path, "/"), ".git")
	parts := strings.Split(path, "/")
	if len(parts) < 2 {
		return ""
	}
	repo := parts[len(parts)-2] + "/" + parts[len(parts)-1]
	if !validRepo(repo) {
		return ""
	}
	return repo
}

// uploadsURL is the uploads base that goes with an API base URL: GitHub
// sends assets to another host (uploads.github.com) or, on Enterprise
// Server, to /api/uploads beside /api/v3.
func uploadsURL(api string) string {
	u, err := url.Parse(api)
	if err != nil {
		return api
	}
	switch {
	case strings.HasPrefix(u.Host, "api."):
		u.Host = "uploads." + strings.TrimPrefix(u.Host, "api.")
		u.Path = "/"
	case strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v3"):
		u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v3") + "/api/uploads/"
	default:
		u.Path = "/api/uploads/"
	}
	return u.String()
}
