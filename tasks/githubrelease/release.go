package githubrelease

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/glob"
	"github.com/novelfactory/runner/internal/regfile"
)

// localAsset is a file to attach.
type localAsset struct {
	path, name  string
	size        int64
	sha256      string // hex
	contentType string
	missing     bool // a dry run's file that an earlier task has not made yet
}

// Asset actions.
const (
	keep    = "unchanged"
	upload  = "upload"
	replace = "replace"
)

// assetAction is what becomes of one asset.
type assetAction struct {
	local  localAsset
	remote *github.ReleaseAsset // the asset of that name already there, or nil
	kind   string
	why    string // for replace: what differs
}

// survey is what a run would do, found by reading only.
type survey struct {
	rel     *github.RepositoryRelease // nil: there is none yet
	update  github.UpdateReleaseRequest
	changes []string // fields the update sets
	assets  []assetAction
	publish bool
}

// contentType is the upload's Content-Type, from the file name.
func contentType(name string) string {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".zip"):
		return "application/zip" // not in Go's own table; a machine's mime.types may lack it
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"), strings.HasSuffix(lower, ".gz"):
		return "application/gzip"
	}
	if t := mime.TypeByExtension(filepath.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// localAssets lists the files p.Assets names, with their sizes and
// SHA-256. In a dry run (dry) a file that is not there yet is listed as
// missing rather than an error: an earlier task makes it.
func localAssets(env *tasktype.Env, p *Params, dry bool) ([]localAsset, error) {
	var out []localAsset
	seen := map[string]string{}
	for _, pattern := range p.Assets {
		matches := []string{pattern}
		if strings.ContainsAny(pattern, "*?[{") {
			var err error
			if matches, err = glob.Match(env.Dir, pattern); err != nil {
				return nil, errorf("assets: %w", err)
			}
			if len(matches) == 0 {
				if dry {
					out = append(out, localAsset{path: pattern, name: pattern, missing: true})
					continue
				}
				return nil, errorf("assets: %q matches no file", pattern)
			}
		}
		isGlob, files := strings.ContainsAny(pattern, "*?[{"), 0
		for _, m := range matches {
			path := env.Path(m)
			if info, err := os.Stat(path); isGlob && err == nil && info.IsDir() {
				continue // a glob such as dist/* also matches folders (as checksum's files)
			}
			files++
			name := filepath.Base(m)
			if other, dup := seen[name]; dup {
				return nil, errorf("assets: %s and %s would both be named %q on the release", other, m, name)
			}
			seen[name] = m
			a := localAsset{path: path, name: name, contentType: contentType(name)}
			info, err := os.Stat(path)
			switch {
			case errors.Is(err, fs.ErrNotExist) && dry:
				a.missing = true
				out = append(out, a)
				continue
			case err != nil:
				return nil, errorf("asset %s: %w", m, err)
			case !info.Mode().IsRegular():
				return nil, errorf("asset %s: %w", m, regfile.ErrNotRegular)
			}
			sum, size, err := hashFile(path)
			if err != nil {
				return nil, errorf("asset %s: %w", m, err)
			}
			a.size, a.sha256 = size, sum
			out = append(out, a)
		}
		if isGlob && files == 0 {
			return nil, errorf("assets: %q matches only folders, no file", pattern)
		}
	}
	return out, nil
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// find returns the release of tag, or nil when there is none. A
// published release is fetched by its tag; a draft is not (GitHub
// answers 404 for a draft's tag), so the releases are listed, newest
// first, and the first with the tag is taken.
func (a *api) find(ctx context.Context, tag string) (*github.RepositoryRelease, error) {
	var rel *github.RepositoryRelease
	err := a.call(ctx, "getting the release of tag "+tag, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		rel, resp, err = a.gh.Repositories.GetReleaseByTag(ctx, a.owner, a.repo, tag)
		return resp, err
	})
	if err == nil {
		return rel, nil
	}
	if !isNotFound(err) {
		return nil, err
	}
	opt := &github.ListOptions{PerPage: 100}
	for {
		var page []*github.RepositoryRelease
		var resp *github.Response
		err := a.call(ctx, fmt.Sprintf("listing the releases of %s/%s", a.owner, a.repo), func() (*github.Response, error) {
			var err error
			page, resp, err = a.gh.Repositories.ListReleases(ctx, a.owner, a.repo, opt)
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			if r.TagName == tag {
				return r, nil
			}
		}
		if resp == nil || resp.NextPage == 0 {
			return nil, nil
		}
		opt.Page = resp.NextPage
	}
}

// listAssets returns every asset of release id.
func (a *api) listAssets(ctx context.Context, id int64) ([]*github.ReleaseAsset, error) {
	var all []*github.ReleaseAsset
	opt := &github.ListOptions{PerPage: 100}
	for {
		var page []*github.ReleaseAsset
		var resp *github.Response
		err := a.call(ctx, "listing the release's assets", func() (*github.Response, error) {
			var err error
			page, resp, err = a.gh.Repositories.ListReleaseAssets(ctx, a.owner, a.repo, id, opt)
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if resp == nil || resp.NextPage == 0 {
			return all, nil
		}
		opt.Page = resp.NextPage
	}
}

// same reports whether remote holds local's bytes, and if not, why. A
// half-finished upload (state other than uploaded) never counts. With a
// digest (GitHub gives sha256:… on newer API versions) it decides; without
// one, equal sizes send for the bytes to compare.
func (a *api) same(ctx context.Context, remote *github.ReleaseAsset, local localAsset) (bool, string, error) {
	if st := remote.GetState(); st != "" && st != "uploaded" {
		return false, "its upload did not finish (state " + st + ")", nil
	}
	if int64(remote.GetSize()) != local.size {
		return false, fmt.Sprintf("%d bytes there, %d here", remote.GetSize(), local.size), nil
	}
	if d := remote.GetDigest(); d != "" {
		if algo, sum, ok := strings.Cut(d, ":"); ok && strings.EqualFold(algo, "sha256") {
			if strings.EqualFold(sum, local.sha256) {
				return true, "", nil
			}
			return false, "another SHA-256", nil
		}
	}
	if local.missing {
		return false, "", nil
	}
	sum, err := a.download(ctx, remote)
	if err != nil {
		return false, "", err
	}
	if sum == local.sha256 {
		return true, "", nil
	}
	return false, "other bytes of the same size", nil
}

// download returns the SHA-256 of an asset's bytes. GitHub redirects to a
// signed URL, fetched without the token.
func (a *api) download(ctx context.Context, remote *github.ReleaseAsset) (string, error) {
	var sum string
	err := a.call(ctx, "downloading "+remote.GetName()+" to compare it", func() (*github.Response, error) {
		rc, _, err := a.gh.Repositories.DownloadReleaseAsset(ctx, a.owner, a.repo, remote.GetID(), &http.Client{})
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		h := sha256.New()
		if _, err := io.Copy(h, rc); err != nil {
			return nil, err
		}
		sum = hex.EncodeToString(h.Sum(nil))
		return nil, nil
	})
	return sum, err
}

// plan reads the release and its assets and decides what to do.
func (a *api) plan(ctx context.Context, p *Params, files []localAsset) (*survey, error) {
	rel, err := a.find(ctx, p.Tag)
	if err != nil {
		return nil, err
	}
	s := &survey{rel: rel}
	var remote []*github.ReleaseAsset
	if rel != nil {
		if p.Name != "" && rel.GetName() != p.Name {
			s.update.Name, s.changes = github.Ptr(p.Name), append(s.changes, "name")
		}
		if p.Notes != "" && rel.GetBody() != p.Notes {
			s.update.Body, s.changes = github.Ptr(p.Notes), append(s.changes, "notes")
		}
		if rel.Prerelease != p.Prerelease {
			s.update.Prerelease, s.changes = github.Ptr(p.Prerelease), append(s.changes, "prerelease")
		}
		if p.TargetCommitish != "" && rel.Draft && rel.TargetCommitish != p.TargetCommitish {
			s.update.TargetCommitish, s.changes = github.Ptr(p.TargetCommitish), append(s.changes, "target_commitish")
		}
		if remote, err = a.listAssets(ctx, rel.ID); err != nil {
			return nil, err
		}
	}
	byName := map[string]*github.ReleaseAsset{}
	for _, r := range remote {
		byName[r.GetName()] = r
	}
	for _, f := range files {
		act := assetAction{local: f, kind: upload, remote: byName[f.name]}
		if act.remote != nil {
			same, why, err := a.same(ctx, act.remote, f)
			if err != nil {
				return nil, err
			}
			act.kind, act.why = replace, why
			if same {
				act.kind = keep
			}
		}
		s.assets = append(s.assets, act)
	}
	s.publish = (p.Publish || !p.Draft) && (rel == nil || rel.Draft)
	return s, nil
}

// planRelease is the dry run: it reads, and says what a run would do.
func planRelease(ctx context.Context, env *tasktype.Env, p *Params, d deps) (tasktype.Plan, error) {
	st, err := resolve(ctx, env, p, d)
	if err != nil {
		return tasktype.Plan{}, err
	}
	files, err := localAssets(env, p, true)
	if err != nil {
		return tasktype.Plan{}, err
	}
	a, err := newAPI(env, p, st, d)
	if err != nil {
		return tasktype.Plan{}, err
	}
	s, err := a.plan(ctx, p, files)
	if err != nil {
		return tasktype.Plan{}, err
	}
	repo := st.owner + "/" + st.repo
	var parts []string
	out := tasktype.Outputs{"repository": repo}
	switch {
	case s.rel == nil:
		parts = append(parts, fmt.Sprintf("would create the draft release %s on %s", p.Tag, repo))
	case len(s.changes) > 0:
		parts = append(parts, fmt.Sprintf("would update %s of the %s %s on %s", strings.Join(s.changes, ", "), state(s.rel), p.Tag, repo))
	default:
		parts = append(parts, fmt.Sprintf("the %s %s on %s is up to date", state(s.rel), p.Tag, repo))
	}
	if s.rel != nil {
		out["id"], out["url"], out["upload_url"] = s.rel.ID, s.rel.HTMLURL, s.rel.UploadURL
	}
	var uploaded, unchanged []string
	for _, act := range s.assets {
		switch act.kind {
		case keep:
			unchanged = append(unchanged, act.local.name)
			parts = append(parts, "would leave "+act.local.name+" alone (same bytes)")
		case replace:
			uploaded = append(uploaded, act.local.name)
			why := act.why
			if act.local.missing {
				why = "if it differs once built"
			}
			parts = append(parts, fmt.Sprintf("would replace %s (%s)", act.local.name, why))
		default:
			uploaded = append(uploaded, act.local.name)
			note := ""
			if act.local.missing {
				note = " (not there yet: an earlier task makes it)"
			}
			parts = append(parts, fmt.Sprintf("would upload %s as %s%s", act.local.name, act.local.contentType, note))
		}
	}
	published := s.rel != nil && !s.rel.Draft
	switch {
	case s.publish:
		parts = append(parts, "would publish it"+latestNote(p.Latest))
		published = true
	case !published:
		parts = append(parts, "would leave it a draft (publish: true publishes it)")
	}
	out["uploaded"], out["unchanged"], out["published"], out["draft"] = nonNil(uploaded), nonNil(unchanged), published, !published
	return tasktype.Plan{Summary: mask(env.Secrets, strings.Join(parts, "; ")), Outputs: out}, nil
}

func state(rel *github.RepositoryRelease) string {
	if rel.Draft {
		return "draft release"
	}
	return "published release"
}

func latestNote(latest string) string {
	if latest == "" {
		return ""
	}
	return " (make_latest: " + latest + ")"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// runRelease creates or updates the release, uploads what changed and
// publishes when asked.
func runRelease(ctx context.Context, env *tasktype.Env, p *Params, d deps) (tasktype.Outputs, error) {
	st, err := resolve(ctx, env, p, d)
	if err != nil {
		return nil, err
	}
	files, err := localAssets(env, p, false)
	if err != nil {
		return nil, err
	}
	a, err := newAPI(env, p, st, d)
	if err != nil {
		return nil, err
	}
	s, err := a.plan(ctx, p, files)
	if err != nil {
		return nil, err
	}
	rel := s.rel
	switch {
	case rel == nil:
		req := github.CreateReleaseRequest{TagName: p.Tag, Name: github.Ptr(p.Tag), Draft: github.Ptr(true), Prerelease: github.Ptr(p.Prerelease)}
		if p.Name != "" {
			req.Name = github.Ptr(p.Name)
		}
		if p.Notes != "" {
			req.Body = github.Ptr(p.Notes)
		}
		if p.TargetCommitish != "" {
			req.TargetCommitish = github.Ptr(p.TargetCommitish)
		}
		// Not retried: a create whose answer was lost would make a second
		// draft. Run again instead: the draft is then found by listing.
		err := a.once(ctx, "creating the draft release "+p.Tag, func() (*github.Response, error) {
			var resp *github.Response
			var err error
			rel, resp, err = a.gh.Repositories.CreateRelease(ctx, a.owner, a.repo, req)
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(env.Log, "created the draft release %s (id %d): %s\n", p.Tag, rel.ID, rel.HTMLURL)
	case len(s.changes) > 0:
		err := a.call(ctx, "updating the release "+p.Tag, func() (*github.Response, error) {
			var resp *github.Response
			var err error
			rel, resp, err = a.gh.Repositories.UpdateRelease(ctx, a.owner, a.repo, rel.ID, s.update)
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(env.Log, "updated %s of the release %s (id %d)\n", strings.Join(s.changes, ", "), p.Tag, rel.ID)
	default:
		fmt.Fprintf(env.Log, "the %s %s (id %d) is up to date\n", state(rel), p.Tag, rel.ID)
	}
	uploaded, unchanged := []string{}, []string{}
	for _, act := range s.assets {
		if act.kind == keep {
			fmt.Fprintf(env.Log, "left %s alone: the same bytes are there\n", act.local.name)
			unchanged = append(unchanged, act.local.name)
			continue
		}
		if act.kind == replace {
			if err := a.deleteAsset(ctx, act.remote); err != nil {
				return nil, err
			}
			fmt.Fprintf(env.Log, "deleted the old %s: %s\n", act.local.name, act.why)
		}
		kept, err := a.upload(ctx, rel.ID, act.local)
		if err != nil {
			return nil, err
		}
		if kept {
			unchanged = append(unchanged, act.local.name)
			continue
		}
		uploaded = append(uploaded, act.local.name)
	}
	if s.publish {
		req := github.UpdateReleaseRequest{Draft: github.Ptr(false)}
		if p.Latest != "" {
			req.MakeLatest = github.Ptr(p.Latest)
		}
		err := a.call(ctx, "publishing the release "+p.Tag, func() (*github.Response, error) {
			var resp *github.Response
			var err error
			rel, resp, err = a.gh.Repositories.UpdateRelease(ctx, a.owner, a.repo, rel.ID, req)
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(env.Log, "published the release %s%s: %s\n", p.Tag, latestNote(p.Latest), rel.HTMLURL)
	}
	return tasktype.Outputs{
		"id": rel.ID, "url": rel.HTMLURL, "upload_url": rel.UploadURL,
		"uploaded": uploaded, "unchanged": unchanged, "published": !rel.Draft, "draft": rel.Draft,
		"repository": st.owner + "/" + st.repo,
	}, nil
}

// once runs f without retries.
func (a *api) once(ctx context.Context, what string, f func() (*github.Response, error)) error {
	saved := a.attempts
	a.attempts = 1
	defer func() { a.attempts = saved }()
	return a.call(ctx, what, f)
}

func (a *api) deleteAsset(ctx context.Context, remote *github.ReleaseAsset) error {
	err := a.call(ctx, "deleting the old "+remote.GetName(), func() (*github.Response, error) {
		return a.gh.Repositories.DeleteReleaseAsset(ctx, a.owner, a.repo, remote.GetID())
	})
	if isNotFound(err) {
		return nil // gone already
	}
	return err
}

// upload sends one asset. An upload whose answer was lost, retried, meets
// GitHub's 422 already_exists: the asset then there is compared, kept
// when it holds the same bytes (kept is true), else deleted and sent once
// more.
func (a *api) upload(ctx context.Context, id int64, f localAsset) (kept bool, err error) {
	file, err := os.Open(f.path)
	if err != nil {
		return false, errorf("asset %s: %w", f.name, err)
	}
	defer file.Close()
	send := func() error {
		return a.call(ctx, "uploading "+f.name, func() (*github.Response, error) {
			if _, err := file.Seek(0, io.SeekStart); err != nil {
				return nil, err
			}
			_, resp, err := a.gh.Repositories.UploadReleaseAsset(ctx, a.owner, a.repo, id,
				&github.UploadOptions{Name: f.name, MediaType: f.contentType}, file)
			return resp, err
		})
	}
	err = send()
	if isAlreadyExists(err) {
		remote, lerr := a.listAssets(ctx, id)
		if lerr != nil {
			return false, lerr
		}
		for _, r := range remote {
			if r.GetName() != f.name {
				continue
			}
			same, _, serr := a.same(ctx, r, f)
			if serr != nil {
				return false, serr
			}
			if same {
				fmt.Fprintf(a.env.Log, "left %s alone: the same bytes are there\n", f.name)
				return true, nil
			}
			if derr := a.deleteAsset(ctx, r); derr != nil {
				return false, derr
			}
		}
		err = send()
	}
	if err != nil {
		return false, err
	}
	fmt.Fprintf(a.env.Log, "uploaded %s (%d bytes, %s)\n", f.name, f.size, f.contentType)
	return false, nil
}
