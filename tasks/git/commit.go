package git

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/quote"
)

// target is one of op commit's paths, resolved in the work tree.
type target struct {
	name string // as the recipe wrote it, for messages
	rel  string // relative to the work tree's root, slash-separated; "." for the root
	gone bool   // deleted and committed as deleted already: nothing to stage
}

// spec is the pathspec of t for git: literal (a * or ? in a name is a
// character) and from the work tree's root, whatever folder git runs in.
func (t target) spec() string {
	if t.rel == "." {
		return ":(top)"
	}
	return ":(top,literal)" + t.rel
}

func specs(targets []target, withGone bool) []string {
	var out []string
	for _, t := range targets {
		if withGone || !t.gone {
			out = append(out, t.spec())
		}
	}
	return out
}

// staging is what op commit finds before staging anything.
type staging struct {
	head    string
	targets []target
	changes []change // the paths' changes against HEAD, staged or not
}

// prepareCommit resolves p.Paths in the work tree, refuses a path outside
// it, one that neither exists nor was ever tracked, and changes staged to
// other paths; then reads what the paths change. It writes nothing.
func (g *repo) prepareCommit(ctx context.Context, p *Params) (staging, error) {
	var s staging
	t, err := g.look(ctx, false)
	if err != nil {
		return s, err
	}
	s.head = t.commit
	top, err := g.line(ctx, "rev-parse", "--show-toplevel")
	if err != nil {
		return s, fmt.Errorf("find the work tree's root: %w", err)
	}
	if s.targets, err = g.resolve(top, p.Paths); err != nil {
		return s, err
	}
	if err := g.otherStaged(ctx, s.targets); err != nil {
		return s, err
	}
	for i := range s.targets {
		if err := g.findTarget(ctx, top, &s.targets[i]); err != nil {
			return s, err
		}
	}
	if live := specs(s.targets, false); len(live) > 0 {
		out, err := g.git(ctx, nil, append([]string{"status", "--porcelain=v1", "-z", "--untracked-files=all", "--"}, live...)...)
		if err != nil {
			return s, fmt.Errorf("read the status of %s: %w", strings.Join(p.Paths, ", "), err)
		}
		s.changes = parseStatus(out)
	}
	return s, nil
}

// resolve turns names, relative to g.dir or absolute, into paths in the
// work tree at top. A name leading outside it — by "..", as an absolute
// name, or through a symlinked folder — is refused, and so is .git.
func (g *repo) resolve(top string, names []string) ([]target, error) {
	realTop, err := filepath.EvalSymlinks(top)
	if err != nil {
		return nil, fmt.Errorf("resolve the work tree's root %s: %w", top, err)
	}
	var targets []target
	for _, name := range names {
		abs := filepath.Clean(name)
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(g.dir, name)
		}
		// The folder is resolved, not the path itself: a tracked symlink
		// is committed as a symlink, wherever it points.
		real := abs
		if r, err := filepath.EvalSymlinks(abs); err == nil && r == realTop {
			real = realTop // the root itself, however named
		} else if abs != filepath.Dir(abs) {
			parent, err := realExisting(filepath.Dir(abs))
			if err != nil {
				return nil, fmt.Errorf("resolve %s: %w", quote.Text(name), err)
			}
			real = filepath.Join(parent, filepath.Base(abs))
		}
		rel, err := filepath.Rel(realTop, real)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("%s is outside the work tree %s: only files in the repository can be committed", quote.Text(name), top)
		}
		rel = filepath.ToSlash(rel)
		if rel == ".git" || strings.HasPrefix(rel, ".git/") {
			return nil, fmt.Errorf("%s is inside .git: it is git's, not a file to commit", quote.Text(name))
		}
		targets = append(targets, target{name: name, rel: rel})
	}
	return targets, nil
}

// realExisting resolves the symlinks of path's longest part that exists,
// and appends the rest: the folder of a deleted file may be gone too.
func realExisting(path string) (string, error) {
	var rest []string
	for {
		real, err := filepath.EvalSymlinks(path)
		if err == nil {
			return filepath.Join(append([]string{real}, rest...)...), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(path)
		if parent == path {
			return "", err
		}
		rest = append([]string{filepath.Base(path)}, rest...)
		path = parent
	}
}

// otherStaged refuses changes staged to paths other than targets: a
// release commit never takes in someone's staged work.
func (g *repo) otherStaged(ctx context.Context, targets []target) error {
	args := []string{"diff", "--cached", "--no-renames", "--name-only", "-z", "HEAD", "--", ":(top)"}
	for _, t := range targets {
		if t.rel == "." {
			return nil // the whole tree is to be committed
		}
		args = append(args, ":(top,literal,exclude)"+t.rel)
	}
	out, err := g.git(ctx, nil, args...)
	if err != nil {
		return fmt.Errorf("read what is staged: %w", err)
	}
	others := strings.FieldsFunc(out, func(r rune) bool { return r == 0 })
	if len(others) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d other %s staged, not among paths: ", len(others), plural(len(others), "file is"))
	for i, o := range others {
		if i == maxListed {
			fmt.Fprintf(&b, " and %d more", len(others)-maxListed)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote.Text(o))
	}
	b.WriteString("; a release commit does not take them in: commit them first, or unstage them (git restore --staged FILE)")
	return errors.New(g.mask(b.String()))
}

// findTarget checks that t exists or is tracked. A path in neither the
// work tree, the index nor HEAD that a commit in HEAD's history had is
// deleted and committed so already (a rerun after the deletion's commit);
// one never tracked is a mistake in the recipe.
func (g *repo) findTarget(ctx context.Context, top string, t *target) error {
	if t.rel == "." {
		return nil
	}
	if _, err := os.Lstat(filepath.Join(top, filepath.FromSlash(t.rel))); err == nil {
		return nil
	}
	for _, args := range [][]string{
		{"ls-files", "-z", "--", t.spec()},
		{"ls-tree", "-r", "-z", "--name-only", "--full-tree", "HEAD", "--", t.rel},
	} {
		out, err := g.git(ctx, nil, args...)
		if err != nil {
			return fmt.Errorf("look for %s: %w", quote.Text(t.name), err)
		}
		if out != "" {
			return nil
		}
	}
	out, err := g.git(ctx, nil, "rev-list", "-1", "HEAD", "--", t.spec())
	if err != nil {
		return fmt.Errorf("look for %s in the history: %w", quote.Text(t.name), err)
	}
	if strings.TrimSpace(out) != "" {
		t.gone = true
		return nil
	}
	return fmt.Errorf("%s does not exist and is not tracked (paths are relative to dir, %s)", quote.Text(t.name), g.dir)
}

// identity checks that git knows who commits: on a fresh machine git's
// own failure comes after staging, and says less.
func (g *repo) identity(ctx context.Context) error {
	for _, v := range []string{"GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"} {
		if _, err := g.git(ctx, nil, "var", v); err != nil {
			return fmt.Errorf("git has no identity to commit with (%s): set it with git config user.name \"NAME\" and "+
				"git config user.email \"EMAIL\" (--global, or in the repository), or in the environment "+
				"(GIT_AUTHOR_NAME, GIT_AUTHOR_EMAIL, GIT_COMMITTER_NAME, GIT_COMMITTER_EMAIL)", strings.ToLower(strings.TrimPrefix(strings.TrimSuffix(v, "_IDENT"), "GIT_")))
		}
	}
	return nil
}

func (g *repo) commit(ctx context.Context, p *Params) (tasktype.Outputs, error) {
	s, err := g.prepareCommit(ctx, p)
	if err != nil {
		return nil, err
	}
	out := outputs()
	out["commit"] = s.head
	if len(s.changes) > 0 {
		if err := g.identity(ctx); err != nil {
			return out, err
		}
	}
	// --all stages a deleted file's deletion; the pathspecs are literal.
	if live := specs(s.targets, false); len(live) > 0 {
		if _, err := g.git(ctx, nil, append([]string{"add", "--all", "--"}, live...)...); err != nil {
			return out, fmt.Errorf("stage %s: %w", strings.Join(p.Paths, ", "), err)
		}
	}
	staged, err := g.git(ctx, nil, append([]string{"diff", "--cached", "--no-renames", "--name-only", "-z", "HEAD", "--"}, specs(s.targets, true)...)...)
	if err != nil {
		return out, fmt.Errorf("read what is staged: %w", err)
	}
	files := strings.FieldsFunc(staged, func(r rune) bool { return r == 0 })
	if len(files) == 0 {
		g.logf("%s: no change against HEAD (%s): nothing to commit\n", strings.Join(p.Paths, ", "), short(s.head))
		return out, nil
	}
	if len(s.changes) == 0 { // staged before this run, not seen by status: check now
		if err := g.identity(ctx); err != nil {
			return out, err
		}
	}
	// The message goes through stdin and is kept as written, # lines too.
	// Hooks (pre-commit, commit-msg) run as with git commit: one that
	// fails fails the task, its output quoted.
	if _, err := g.git(ctx, strings.NewReader(p.Message), "commit", "--quiet", "--cleanup=whitespace", "--file=-"); err != nil {
		return out, fmt.Errorf("commit %s: %w", strings.Join(quoteAll(files), ", "), err)
	}
	head, err := g.commitOf(ctx, "HEAD")
	if err != nil {
		return out, err
	}
	out["commit"], out["created"] = head, true
	g.logf("committed %d %s as %s: %s\n", len(files), plural(len(files), "file"), short(head), strings.Join(quoteAll(files), ", "))
	return out, nil
}

func (g *repo) planCommit(ctx context.Context, p *Params) tasktype.Plan {
	plan := tasktype.Plan{Outputs: tasktype.Outputs{}}
	s, err := g.prepareCommit(ctx, p)
	if err != nil {
		plan.Summary = g.mask(fmt.Sprintf("would commit %s (it fails now: %v)", strings.Join(p.Paths, ", "), err))
		return plan
	}
	if len(s.changes) == 0 {
		plan.Outputs["commit"], plan.Outputs["created"] = s.head, false
		plan.Summary = fmt.Sprintf("%s: no change against HEAD (%s): nothing to commit", strings.Join(p.Paths, ", "), short(s.head))
		return plan
	}
	files := make([]string, 0, len(s.changes))
	for _, c := range s.changes {
		files = append(files, quote.Text(c.path)+" ("+c.what+")")
	}
	slices.Sort(files)
	plan.Outputs["created"] = true
	plan.Summary = g.mask(fmt.Sprintf("would commit %d %s on %s: %s", len(files), plural(len(files), "file"), short(s.head), strings.Join(files, ", ")))
	if err := g.identity(ctx); err != nil {
		plan.Summary += "; it would fail now: " + err.Error()
	}
	return plan
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = quote.Text(n)
	}
	return out
}
