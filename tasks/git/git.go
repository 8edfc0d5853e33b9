// Package git is the built-in task type `git`: the git operations a
// release needs — check the tree and branch, commit the release's files,
// create an annotated tag, push it, describe — each safe to repeat. Registered with the others in
// package tasks.
//
// It runs the real git binary (never through a shell) in a process group
// of its own, with LC_ALL=C so that its messages are the ones this package
// reads, and GIT_TERMINAL_PROMPT=0 so that a missing credential fails
// instead of waiting for a password nobody types. A remote URL may hold a
// token (https://x-access-token:TOKEN@github.com/…): the type registers it
// with the run's secret masker before anything can print it, and every
// message of git's it quotes passes through that masker.
package git

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"context"
	"fmt"
	"strings"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
)

// Params are the params of the git task.
type Params struct {
	// What to do: `check` (refuse a dirty tree or another branch than `branch`), `commit` (commit `paths` with
	// `message`), `tag` (create the annotated tag `tag`), `push` (push `tag`, or `ref`, to `remote`) or `describe`
	// (`git describe --tags`).
	Op string `yaml:"op" json:"op" required:"true" enum:"check,commit,tag,push,describe"`
	// The repository: its work tree or any folder inside it; the recipe's folder when empty.
	Dir params.Path `yaml:"dir" json:"dir"`
	// check: the branch HEAD must be on (a detached HEAD is refused too); any branch, or none, when empty.
	Branch string `yaml:"branch" json:"branch"`
	// check: refuse uncommitted changes, staged or not, and untracked files that are not ignored. With false the
	// files are only reported, in the `dirty` output.
	Clean bool `yaml:"clean" json:"clean" default:"true"`
	// tag, push: the tag's name, e.g. v1.2.0.
	Tag string `yaml:"tag" json:"tag"`
	// commit: the files to commit, relative to `dir` (or absolute, inside the work tree); a folder stands for every
	// file in it. A deleted tracked file is committed as deleted. Names are literal: * and ? are not patterns.
	Paths params.Strings `yaml:"paths" json:"paths"`
	// tag: the tag's message; the tag's name when empty. commit: the commit's message (required). Kept as written,
	// lines starting with # too.
	Message string `yaml:"message" json:"message"`
	// tag: the commit to tag (a branch, a sha, any revision git reads); HEAD when empty. push: a ref to push
	// instead of a tag (a branch such as main). describe: the commit to describe; HEAD when empty.
	Ref string `yaml:"ref" json:"ref"`
	// push: the remote, a name (origin) or a URL; a token in the URL is masked everywhere.
	Remote string `yaml:"remote" json:"remote" default:"origin"`
	// describe: consider only tags matching these glob patterns (`--match`).
	Match params.Strings `yaml:"match" json:"match"`
	// describe: leave out tags matching these glob patterns (`--exclude`).
	Exclude params.Strings `yaml:"exclude" json:"exclude"`
	// describe: hex digits of the abbreviated commit (`--abbrev`); 0 gives the tag's name alone; git's default when unset.
	Abbrev *int `yaml:"abbrev" json:"abbrev" min:"0" shape:"a number of hex digits, 0 or more"`
	// describe: always give the long form, tag-N-gSHA, even on a tagged commit (`--long`).
	Long bool `yaml:"long" json:"long"`
	// describe: give the abbreviated commit when no tag is found instead of failing (`--always`).
	Always bool `yaml:"always" json:"always"`
	// describe: follow only the first parent of merges (`--first-parent`).
	FirstParent bool `yaml:"first_parent" json:"first_parent"`
	// describe: append -dirty when tracked files have changes, staged or not (as `--dirty` does, without writing the index); not with `ref`.
	Dirty bool `yaml:"dirty" json:"dirty"`
}

// Register adds the git task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: fieldDoc,
		Name:      "git",
		Summary:   "Check the tree and branch, commit files, create an annotated tag, push it, describe: safe to repeat.",
		Doc: "Runs the git operations a release needs with the real `git`, each safe to run again. " +
			"`op: check` fails on a dirty tree — changes staged or not, untracked files that are not ignored — " +
			"naming every file, and on a branch other than `branch` (a detached HEAD is named as such). " +
			"`op: commit` stages exactly `paths` (relative to `dir`; new files and deletions included) and commits " +
			"them with `message`; when they have no change against HEAD nothing is committed (`created: false`). It " +
			"refuses changes already staged to other files, naming them, a path outside the work tree or neither " +
			"present nor ever tracked, and a missing git identity (`git config user.name` / `user.email`) before " +
			"staging anything. Git's pre-commit and commit-msg hooks run as with `git commit`: one that fails fails " +
			"the task, its output quoted, and leaves the paths staged for a rerun. " +
			"`op: tag` creates the annotated tag `tag` with `message` on HEAD (or `ref`); a tag of that name already " +
			"on that commit is success (`created: false`), one on another commit an error naming both commits, and so " +
			"is a lightweight tag of that name. `op: push` pushes the tag (or `ref`) to `remote`; one already there on " +
			"the same commit is success, one there on another commit an error (a tag is never moved). " +
			"`op: describe` runs `git describe --tags` with the options given. A dry run makes no change: it looks at " +
			"the repository (read-only; the index is not written) to say what would happen — for commit, which " +
			"files — and computes `describe`; it does not contact the remote. Git's messages are quoted in errors with secrets masked: a token in a remote URL never shows.",
		Outputs: []tasktype.Output{
			{Name: "commit", Type: "string", Doc: "The full sha of the commit: HEAD (check), the new commit, or HEAD when there was nothing to commit (commit), the tagged commit (tag, push), the described one."},
			{Name: "branch", Type: "string", Doc: "check: the branch HEAD is on; empty when detached (and for the other ops)."},
			{Name: "dirty", Type: "list of string", Doc: "check: the files that make the tree dirty, as paths in the work tree."},
			{Name: "tag", Type: "string", Doc: "tag, push: the tag's name."},
			{Name: "created", Type: "boolean", Doc: "commit: whether this run made a commit (false when the paths had no change); tag: whether this run created the tag; push: whether this run pushed it (false when it was there already)."},
			{Name: "describe", Type: "string", Doc: "describe: what git describe printed, e.g. v1.2.0-3-gabc1234; empty for the other ops."},
		},
		Examples: []tasktype.Example{
			{Title: "Refuse to release from a dirty tree or from another branch than main", YAML: `check-tree:
  uses: git
  with:
    op: check
    branch: main
`},
			{Title: "Commit the release's files; a rerun finds no change and commits nothing", YAML: `commit:
  uses: git
  with:
    op: commit
    paths: [CHANGELOG.md, README.md, factory/__init__.py]
    message: Factory 1.2.0
`},
			{Title: "Tag the release; a rerun finds the tag on the same commit and succeeds", YAML: `tag:
  uses: git
  with:
    op: tag
    tag: v11.0.0
    message: |
      Release 11.0.0

      # Features
      - ZIP assets on the release
`},
			{Title: "Push the tag; one already at the remote on the same commit is success", YAML: `push-tag:
  uses: git
  with:
    op: push
    tag: v11.0.0
    remote: origin
`},
			{Title: "The version of a build, from the nearest release tag", YAML: `version:
  uses: git
  with:
    op: describe
    match: v*
    always: true
    dirty: true
`},
		},
		Check: check,
		Plan:  plan,
		Run:   run,
	})
}

// forOp says which op each param belongs to, for check.
var forOp = []struct {
	field string
	ops   string
	set   func(p *Params) bool
}{
	{"branch", "check", func(p *Params) bool { return p.Branch != "" }},
	{"paths", "commit", func(p *Params) bool { return len(p.Paths) > 0 }},
	{"message", "tag commit", func(p *Params) bool { return p.Message != "" }},
	{"tag", "tag push", func(p *Params) bool { return p.Tag != "" }},
	{"match", "describe", func(p *Params) bool { return len(p.Match) > 0 }},
	{"exclude", "describe", func(p *Params) bool { return len(p.Exclude) > 0 }},
	{"abbrev", "describe", func(p *Params) bool { return p.Abbrev != nil }},
	{"long", "describe", func(p *Params) bool { return p.Long }},
	{"always", "describe", func(p *Params) bool { return p.Always }},
	{"first_parent", "describe", func(p *Params) bool { return p.FirstParent }},
	{"dirty", "describe", func(p *Params) bool { return p.Dirty }},
	{"ref", "tag push describe", func(p *Params) bool { return p.Ref != "" }},
}

// check validates params. It never repeats remote: it may be a URL with a
// token, and validation runs before a masker knows it.
func check(p *Params) error {
	for _, f := range forOp {
		if f.set(p) && !strings.Contains(" "+f.ops+" ", " "+p.Op+" ") {
			return params.Errorf(f.field, "%s is a param of op %s, not of op %s", f.field, strings.ReplaceAll(f.ops, " ", " or "), p.Op)
		}
	}
	for _, name := range []struct{ field, value string }{{"tag", p.Tag}, {"ref", p.Ref}, {"branch", p.Branch}} {
		if strings.HasPrefix(name.value, "-") {
			return params.Errorf(name.field, "%s cannot start with -: %q", name.field, name.value)
		}
	}
	switch p.Op {
	case "tag":
		if p.Tag == "" {
			return params.Errorf("tag", "op tag needs the tag's name in tag")
		}
	case "commit":
		if len(p.Paths) == 0 {
			return params.Errorf("paths", "op commit needs the files to commit in paths")
		}
		for _, path := range p.Paths {
			if strings.TrimSpace(path) == "" {
				return params.Errorf("paths", "paths holds an empty name")
			}
		}
		if strings.TrimSpace(p.Message) == "" {
			return params.Errorf("message", "op commit needs the commit's message in message")
		}
	case "push":
		if (p.Tag == "") == (p.Ref == "") {
			return params.Errorf("tag", "op push needs either tag (a tag to push) or ref (a branch to push), one of them")
		}
		if strings.TrimSpace(p.Remote) == "" || strings.HasPrefix(p.Remote, "-") {
			return params.Errorf("remote", "op push needs a remote: a name such as origin, or a URL (it is not repeated here: it may hold a token)")
		}
	case "describe":
		if p.Dirty && p.Ref != "" {
			return params.Errorf("dirty", "dirty describes the work tree, so it cannot go with ref")
		}
	}
	return nil
}

func run(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
	g := newRepo(env, p)
	if err := g.checkDir(); err != nil {
		return nil, err
	}
	switch p.Op {
	case "check":
		return g.check(ctx, p)
	case "commit":
		return g.commit(ctx, p)
	case "tag":
		return g.tag(ctx, p)
	case "push":
		return g.push(ctx, p)
	case "describe":
		return g.describe(ctx, p)
	}
	return nil, fmt.Errorf("git: unknown op %q", p.Op) // Decode rejects it first
}

func plan(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
	g := newRepo(env, p)
	if err := g.checkDir(); err != nil {
		// An earlier task may make the folder (a clone): not an error yet.
		return tasktype.Plan{Summary: fmt.Sprintf("would run git %s in %s (not there now: %v)", p.Op, g.dir, err)}, nil
	}
	switch p.Op {
	case "check":
		return g.planCheck(ctx, p), nil
	case "commit":
		return g.planCommit(ctx, p), nil
	case "tag":
		return g.planTag(ctx, p), nil
	case "push":
		return g.planPush(ctx, p), nil
	case "describe":
		return g.planDescribe(ctx, p), nil
	}
	return tasktype.Plan{}, fmt.Errorf("git: unknown op %q", p.Op)
}
