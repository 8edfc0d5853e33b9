package git

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/quote"
)

// maxListed is how many dirty files an error names before "and N more".
const maxListed = 50

// change is one entry of `git status`: a path and what happened to it.
type change struct {
	path string
	what string
}

// tree is the state of a work tree that op check looks at.
type tree struct {
	commit string   // HEAD's full sha
	branch string   // "" when detached
	dirty  []change // nil when clean
}

// look reads HEAD, its branch and, when status is set, what is dirty. It
// changes nothing (GIT_OPTIONAL_LOCKS=0 keeps status from writing the index).
func (g *repo) look(ctx context.Context, status bool) (tree, error) {
	var t tree
	if _, err := g.line(ctx, "rev-parse", "--is-inside-work-tree"); err != nil {
		return t, fmt.Errorf("%s is not in a git work tree: %w", g.dir, err)
	}
	commit, err := g.line(ctx, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
	if err != nil {
		return t, fmt.Errorf("read HEAD in %s (a repository without a commit yet?): %w", g.dir, err)
	}
	t.commit = commit
	ref, err := g.line(ctx, "symbolic-ref", "--quiet", "HEAD")
	switch {
	case err == nil:
		t.branch = strings.TrimPrefix(ref, "refs/heads/")
	case exitCode(err) != 1: // 1: HEAD is detached
		return t, fmt.Errorf("read the branch of HEAD: %w", err)
	}
	if !status {
		return t, nil
	}
	out, err := g.git(ctx, nil, "status", "--porcelain=v1", "-z", "--untracked-files=all")
	if err != nil {
		return t, fmt.Errorf("read the status of the work tree: %w", err)
	}
	t.dirty = parseStatus(out)
	return t, nil
}

// parseStatus reads `git status --porcelain=v1 -z`: "XY PATH" records
// ended by NUL, a rename's or copy's original path in the next record.
func parseStatus(out string) []change {
	var changes []change
	records := strings.Split(out, "\x00")
	for i := 0; i < len(records); i++ {
		r := records[i]
		if len(r) < 4 {
			continue
		}
		x, y, path := r[0], r[1], r[3:]
		c := change{path: path}
		if (x == 'R' || x == 'C') && i+1 < len(records) {
			i++
			c.what = fmt.Sprintf("%s from %s", kind(x), quote.Text(records[i]))
			if y != ' ' {
				c.what += ", then " + kind(y) + " (not staged)"
			} else {
				c.what += " (staged)"
			}
			changes = append(changes, c)
			continue
		}
		switch {
		case x == '?' && y == '?':
			c.what = "untracked"
		case x == 'U' || y == 'U' || (x == 'A' && y == 'A') || (x == 'D' && y == 'D'):
			c.what = "unmerged (a conflict)"
		default:
			var parts []string
			if x != ' ' {
				parts = append(parts, kind(x)+" (staged)")
			}
			if y != ' ' {
				parts = append(parts, kind(y)+" (not staged)")
			}
			c.what = strings.Join(parts, ", then ")
		}
		changes = append(changes, c)
	}
	return changes
}

// kind names a status letter.
func kind(b byte) string {
	switch b {
	case 'M':
		return "modified"
	case 'A':
		return "added"
	case 'D':
		return "deleted"
	case 'R':
		return "renamed"
	case 'C':
		return "copied"
	case 'T':
		return "type changed"
	}
	return "changed (" + string(b) + ")"
}

// paths are the paths of changes, for the dirty output.
func paths(changes []change) []string {
	out := make([]string, len(changes))
	for i, c := range changes {
		out[i] = c.path
	}
	return out
}

// problems says what makes t fail op check with p, one problem a line;
// "" when nothing does.
func (t tree) problems(p *Params) string {
	var msgs []string
	if p.Branch != "" && t.branch != p.Branch {
		if t.branch == "" {
			msgs = append(msgs, fmt.Sprintf("HEAD is detached at %s, not on branch %s", short(t.commit), p.Branch))
		} else {
			msgs = append(msgs, fmt.Sprintf("HEAD is on branch %s, not on %s", t.branch, p.Branch))
		}
	}
	if p.Clean && len(t.dirty) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "the work tree is not clean: %d %s", len(t.dirty), plural(len(t.dirty), "file"))
		for i, c := range t.dirty {
			if i == maxListed {
				fmt.Fprintf(&b, "\n  and %d more", len(t.dirty)-maxListed)
				break
			}
			fmt.Fprintf(&b, "\n  %s: %s", quote.Text(c.path), c.what)
		}
		b.WriteString("\ncommit them, stash them (git stash -u) or add them to .gitignore")
		msgs = append(msgs, b.String())
	}
	return strings.Join(msgs, "; ")
}

func (g *repo) check(ctx context.Context, p *Params) (tasktype.Outputs, error) {
	t, err := g.look(ctx, true)
	if err != nil {
		return nil, err
	}
	out := outputs()
	out["commit"], out["branch"], out["dirty"] = t.commit, t.branch, paths(t.dirty)
	if msg := t.problems(p); msg != "" {
		return out, errors.New(g.mask(fmt.Sprintf("check %s: %s", g.dir, msg)))
	}
	g.logf("%s is clean, on %s at %s\n", g.dir, branchName(t), short(t.commit))
	return out, nil
}

func (g *repo) planCheck(ctx context.Context, p *Params) tasktype.Plan {
	what := "would check that the work tree at " + g.dir
	switch {
	case p.Clean && p.Branch != "":
		what += " is clean and on branch " + p.Branch
	case p.Clean:
		what += " is clean"
	case p.Branch != "":
		what += " is on branch " + p.Branch
	default:
		what = "would list what is uncommitted in the work tree at " + g.dir
	}
	t, err := g.look(ctx, true)
	if err != nil {
		return tasktype.Plan{Summary: g.mask(fmt.Sprintf("%s (cannot look now: %v)", what, err))}
	}
	now := fmt.Sprintf("now on %s at %s, %d uncommitted %s", branchName(t), short(t.commit), len(t.dirty), plural(len(t.dirty), "file"))
	if msg := t.problems(p); msg != "" {
		now = "it would fail now: " + msg
	}
	return tasktype.Plan{
		Summary: g.mask(what + " (" + now + ")"),
		Outputs: tasktype.Outputs{"commit": t.commit, "branch": t.branch},
	}
}

// existing is a tag as it is in the repository.
type existing struct {
	found       bool
	annotated   bool
	commit      string // the commit it points at, peeled
	description string // "annotated tag v1 on abc1234"
}

// findTag looks tag up in the repository.
func (g *repo) findTag(ctx context.Context, tag string) (existing, error) {
	obj, err := g.line(ctx, "rev-parse", "--verify", "--quiet", "refs/tags/"+tag)
	if exitCode(err) == 1 && obj == "" {
		return existing{}, nil
	}
	if err != nil {
		return existing{}, fmt.Errorf("look for tag %s: %w", tag, err)
	}
	typ, err := g.line(ctx, "cat-file", "-t", obj)
	if err != nil {
		return existing{}, fmt.Errorf("look at tag %s: %w", tag, err)
	}
	commit, err := g.line(ctx, "rev-parse", "--verify", "--quiet", obj+"^{commit}")
	if err != nil {
		return existing{}, fmt.Errorf("tag %s points at a %s, not at a commit: %w", tag, typ, err)
	}
	e := existing{found: true, annotated: typ == "tag", commit: commit}
	if e.annotated {
		e.description = fmt.Sprintf("annotated tag %s on %s", tag, commit)
	} else {
		e.description = fmt.Sprintf("lightweight tag %s on %s", tag, commit)
	}
	return e, nil
}

// commitOf resolves rev (HEAD when empty) to a commit's full sha.
func (g *repo) commitOf(ctx context.Context, rev string) (string, error) {
	if rev == "" {
		rev = "HEAD"
	}
	commit, err := g.line(ctx, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("%s is not a commit in %s: %w", rev, g.dir, err)
	}
	return commit, nil
}

// tagVerdict says what op tag does given the tag as it is: create it
// (create), nothing (nil error, !create), or fail.
func tagVerdict(tag, commit string, e existing) (create bool, err error) {
	switch {
	case !e.found:
		return true, nil
	case !e.annotated:
		return false, fmt.Errorf("tag %s exists as a lightweight tag on %s, and an annotated tag was asked for: delete it (git tag -d %s) or choose another name", tag, e.commit, tag)
	case e.commit != commit:
		return false, fmt.Errorf("tag %s exists on commit %s, not on %s: a release tag is not moved; delete it (git tag -d %s) if it is wrong, or choose another version", tag, e.commit, commit, tag)
	}
	return false, nil
}

// prepareTag checks the tag's name and resolves the commit to tag.
func (g *repo) prepareTag(ctx context.Context, p *Params) (commit string, e existing, err error) {
	if _, err := g.git(ctx, nil, "check-ref-format", "refs/tags/"+p.Tag); err != nil {
		return "", e, fmt.Errorf("%s is not a valid tag name (see git check-ref-format)", quote.Text(p.Tag))
	}
	if commit, err = g.commitOf(ctx, p.Ref); err != nil {
		return "", e, err
	}
	e, err = g.findTag(ctx, p.Tag)
	return commit, e, err
}

func (g *repo) tag(ctx context.Context, p *Params) (tasktype.Outputs, error) {
	commit, e, err := g.prepareTag(ctx, p)
	if err != nil {
		return nil, err
	}
	out := outputs()
	out["tag"], out["commit"] = p.Tag, commit
	create, err := tagVerdict(p.Tag, commit, e)
	if err != nil {
		return out, err
	}
	if !create {
		g.logf("tag %s is already on %s: nothing to do\n", p.Tag, commit)
		return out, nil
	}
	msg := p.Message
	if strings.TrimSpace(msg) == "" {
		msg = p.Tag
	}
	// The message goes through stdin, kept as written: release notes
	// have "# Features" headings that the default cleanup would drop.
	_, err = g.git(ctx, strings.NewReader(msg), "tag", "--annotate", "--cleanup=whitespace", "--file=-", p.Tag, commit)
	if err != nil {
		// Someone may have made the same tag meanwhile: that is success too.
		if again, lookErr := g.findTag(ctx, p.Tag); lookErr == nil && again.found {
			_, verdict := tagVerdict(p.Tag, commit, again)
			return out, verdict
		}
		return out, fmt.Errorf("create tag %s: %w", p.Tag, err)
	}
	g.logf("created annotated tag %s on %s\n", p.Tag, commit)
	out["created"] = true
	return out, nil
}

func (g *repo) planTag(ctx context.Context, p *Params) tasktype.Plan {
	on := "HEAD"
	if p.Ref != "" {
		on = p.Ref
	}
	plan := tasktype.Plan{Outputs: tasktype.Outputs{"tag": p.Tag}}
	commit, e, err := g.prepareTag(ctx, p)
	if err != nil {
		plan.Summary = g.mask(fmt.Sprintf("would create annotated tag %s on %s (cannot look now: %v)", p.Tag, on, err))
		return plan
	}
	plan.Outputs["commit"] = commit
	create, err := tagVerdict(p.Tag, commit, e)
	switch {
	case err != nil:
		plan.Summary = "would fail: " + err.Error()
	case create:
		plan.Summary = fmt.Sprintf("would create annotated tag %s on %s (%s)", p.Tag, short(commit), on)
	default:
		plan.Summary = fmt.Sprintf("tag %s is already on %s (%s): nothing to do", p.Tag, short(commit), on)
	}
	plan.Summary = g.mask(plan.Summary)
	return plan
}

// pushed is what op push pushes: a full ref name and its commit.
type pushed struct {
	ref    string // refs/tags/v1 or refs/heads/main
	what   string // "tag v1" or "branch main"
	commit string
}

// source resolves what p pushes, in the local repository.
func (g *repo) source(ctx context.Context, p *Params) (pushed, error) {
	if p.Tag != "" {
		e, err := g.findTag(ctx, p.Tag)
		if err != nil {
			return pushed{}, err
		}
		if !e.found {
			return pushed{}, fmt.Errorf("there is no tag %s in %s to push: create it first (op: tag)", p.Tag, g.dir)
		}
		return pushed{ref: "refs/tags/" + p.Tag, what: "tag " + p.Tag, commit: e.commit}, nil
	}
	full, err := g.line(ctx, "rev-parse", "--symbolic-full-name", p.Ref)
	if err != nil || !strings.HasPrefix(full, "refs/") {
		return pushed{}, fmt.Errorf("%s is not a branch or tag here (ref names a ref to push, such as main): %v", quote.Text(p.Ref), err)
	}
	commit, err := g.commitOf(ctx, full)
	if err != nil {
		return pushed{}, err
	}
	what := "ref " + full
	if name, ok := strings.CutPrefix(full, "refs/heads/"); ok {
		what = "branch " + name
	} else if name, ok := strings.CutPrefix(full, "refs/tags/"); ok {
		what = "tag " + name
	}
	return pushed{ref: full, what: what, commit: commit}, nil
}

// remoteCommit reads the commit ref points at on remote; "" when the
// remote has no such ref.
func (g *repo) remoteCommit(ctx context.Context, remote, ref string) (string, error) {
	out, err := g.git(ctx, nil, "ls-remote", remote, ref, ref+"^{}")
	if err != nil {
		return "", fmt.Errorf("read %s on the remote %s: %w", ref, g.mask(remote), err)
	}
	var direct, peeled string
	for _, line := range strings.Split(out, "\n") {
		oid, name, ok := strings.Cut(strings.TrimSpace(line), "\t")
		switch {
		case !ok:
		case name == ref:
			direct = oid
		case name == ref+"^{}":
			peeled = oid
		}
	}
	if peeled != "" {
		return peeled, nil
	}
	return direct, nil
}

func (g *repo) push(ctx context.Context, p *Params) (tasktype.Outputs, error) {
	g.protectRemote(ctx, p.Remote)
	src, err := g.source(ctx, p)
	if err != nil {
		return nil, err
	}
	out := outputs()
	out["commit"], out["tag"] = src.commit, p.Tag
	there, err := g.remoteCommit(ctx, p.Remote, src.ref)
	if err != nil {
		return out, err
	}
	switch {
	case there == src.commit:
		g.logf("%s is on %s at the remote already: nothing to push\n", src.what, src.commit)
		return out, nil
	case there != "" && strings.HasPrefix(src.ref, "refs/tags/"):
		return out, fmt.Errorf("the remote %s has %s on commit %s, and here it is on %s: a release tag is not moved; "+
			"find out which is right before deleting either", g.mask(p.Remote), src.what, there, src.commit)
	}
	// No --force: a branch that moved on at the remote is git's to refuse.
	if _, err := g.git(ctx, nil, "push", "--porcelain", p.Remote, src.ref+":"+src.ref); err != nil {
		return out, fmt.Errorf("push %s to %s: %w", src.what, g.mask(p.Remote), err)
	}
	g.logf("pushed %s (%s) to %s\n", src.what, src.commit, g.mask(p.Remote))
	out["created"] = true
	return out, nil
}

func (g *repo) planPush(ctx context.Context, p *Params) tasktype.Plan {
	g.protectRemote(ctx, p.Remote)
	plan := tasktype.Plan{Outputs: tasktype.Outputs{}}
	if p.Tag != "" {
		plan.Outputs["tag"] = p.Tag
	}
	what := "tag " + p.Tag
	if p.Tag == "" {
		what = p.Ref
	}
	// The remote is not contacted in a dry run: only what is here is read.
	src, err := g.source(ctx, p)
	if err != nil {
		plan.Summary = g.mask(fmt.Sprintf("would push %s to %s unless it is there already (not here yet: %v)", what, p.Remote, err))
		return plan
	}
	plan.Outputs["commit"] = src.commit
	plan.Summary = g.mask(fmt.Sprintf("would push %s (%s) to %s unless it is there already on that commit", src.what, short(src.commit), p.Remote))
	return plan
}

// describeArgs are git describe's arguments for p.
func describeArgs(p *Params) []string {
	args := []string{"describe", "--tags"}
	for _, m := range p.Match {
		args = append(args, "--match="+m)
	}
	for _, m := range p.Exclude {
		args = append(args, "--exclude="+m)
	}
	if p.Abbrev != nil {
		args = append(args, fmt.Sprintf("--abbrev=%d", *p.Abbrev))
	}
	for _, f := range []struct {
		on   bool
		flag string
	}{{p.Long, "--long"}, {p.Always, "--always"}, {p.FirstParent, "--first-parent"}} {
		if f.on {
			args = append(args, f.flag)
		}
	}
	if p.Ref != "" {
		args = append(args, p.Ref)
	}
	return args
}

func (g *repo) describe(ctx context.Context, p *Params) (tasktype.Outputs, error) {
	commit, err := g.commitOf(ctx, p.Ref)
	if err != nil {
		return nil, err
	}
	desc, err := g.line(ctx, describeArgs(p)...)
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", commit, err)
	}
	if p.Dirty {
		// Not git's --dirty: it refreshes the index, a write a dry run
		// must not make. The same test — tracked changes, staged or not.
		changed, err := g.git(ctx, nil, "status", "--porcelain=v1", "-z", "--untracked-files=no")
		if err != nil {
			return nil, fmt.Errorf("look for changes in the work tree: %w", err)
		}
		if changed != "" {
			desc += "-dirty"
		}
	}
	g.logf("%s describes as %s\n", commit, desc)
	out := outputs()
	out["describe"], out["commit"] = desc, commit
	return out, nil
}

func (g *repo) planDescribe(ctx context.Context, p *Params) tasktype.Plan {
	out, err := g.describe(ctx, p) // read-only: a dry run gets the value too
	if err != nil {
		return tasktype.Plan{Summary: g.mask(fmt.Sprintf("would run git %s (it fails now: %v)", strings.Join(describeArgs(p), " "), err))}
	}
	return tasktype.Plan{Summary: fmt.Sprintf("would describe %s: %s", short(out["commit"].(string)), out["describe"]), Outputs: out}
}

// outputs are every output of the type, empty: each op sets its own, and
// a later task may name any of them whatever the op.
func outputs() tasktype.Outputs {
	return tasktype.Outputs{"commit": "", "branch": "", "dirty": []string{}, "tag": "", "created": false, "describe": ""}
}

// short abbreviates a sha for messages; outputs keep it whole.
func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func branchName(t tree) string {
	if t.branch == "" {
		return "a detached HEAD"
	}
	return "branch " + t.branch
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
