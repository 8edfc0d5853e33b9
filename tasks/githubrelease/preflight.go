package githubrelease

import (
	"context"
	"fmt"

	"github.com/google/go-github/v89/github"

	"github.com/novelfactory/runner/engine/tasktype"
)

// preflight is check: true. It resolves the token, the repository and the
// API URL as a run does, reads the repository once (GET
// /repos/{owner}/{repo}) and fails when the token is missing, refused,
// cannot see the repository or cannot write it. It changes nothing, so a
// dry run does the same. It returns what it found, for messages.
func preflight(ctx context.Context, env *tasktype.Env, p *Params, d deps) (settings, string, error) {
	st, err := resolve(ctx, env, p, d)
	if err != nil {
		return st, "", err
	}
	a, err := newAPI(env, p, st, d)
	if err != nil {
		return st, "", err
	}
	full := st.owner + "/" + st.repo
	var repo *github.Repository
	err = a.call(ctx, "reading the repository "+full, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		repo, resp, err = a.gh.Repositories.Get(ctx, st.owner, st.repo)
		return resp, err
	})
	if isNotFound(err) {
		return st, "", errorf("the repository %s was not found (404): it does not exist, or the token in %s cannot see it; "+
			"check repository (or GITHUB_REPOSITORY, or the origin remote) and that the token was given access to %s", full, p.TokenEnv, full)
	}
	if err != nil {
		return st, "", err
	}
	perms := repo.GetPermissions()
	switch {
	case perms == nil || perms.Push == nil:
		// Some tokens (a GitHub App's) are not shown their permissions:
		// the read worked, the write cannot be confirmed beforehand.
		return st, fmt.Sprintf("the token in %s can read %s (GitHub does not show it its permissions: the write is not confirmed)", p.TokenEnv, full), nil
	case !perms.GetPush():
		return st, "", errorf("the token in %s can read %s but not write to it (permissions.push is false), so it cannot create releases: "+
			"give a token with contents: write on %s (fine-grained: Contents read and write; classic: repo, or public_repo for a public repository)",
			p.TokenEnv, full, full)
	}
	return st, fmt.Sprintf("the token in %s can read %s and write its releases", p.TokenEnv, full), nil
}

// checkOutputs are the outputs of check: true: nothing was changed.
func checkOutputs(st settings) tasktype.Outputs {
	return tasktype.Outputs{"id": int64(0), "url": "", "upload_url": "", "uploaded": []string{}, "unchanged": []string{},
		"published": false, "draft": false, "repository": st.owner + "/" + st.repo}
}

func runPreflight(ctx context.Context, env *tasktype.Env, p *Params, d deps) (tasktype.Outputs, error) {
	st, msg, err := preflight(ctx, env, p, d)
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(env.Log, mask(env.Secrets, msg))
	return checkOutputs(st), nil
}

func planPreflight(ctx context.Context, env *tasktype.Env, p *Params, d deps) (tasktype.Plan, error) {
	st, msg, err := preflight(ctx, env, p, d)
	if err != nil {
		return tasktype.Plan{}, err
	}
	return tasktype.Plan{Summary: mask(env.Secrets, "checked (read only, as in a run): "+msg), Outputs: checkOutputs(st)}, nil
}
