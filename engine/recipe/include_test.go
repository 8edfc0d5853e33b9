package recipe_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/engine/recipe"
)

// TestIncludesStayInTheRecipesTree: include: read any file, absolute or
// outside the recipe's folder, and validate — which runs nothing — quoted
// a file that was not a recipe line by line.
func TestIncludesStayInTheRecipesTree(t *testing.T) {
	outside := t.TempDir()
	shadow := filepath.Join(outside, "shadow")
	os.WriteFile(shadow, []byte("root:$6$SALTSECRET:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"), 0o600)
	writeRecipe(t, outside, "shared.yaml", "version: 1\ntasks:\n  shared:\n    uses: echo\n    with: {message: shared}\n")
	dir := t.TempDir()
	os.Symlink(filepath.Join(outside, "shared.yaml"), filepath.Join(dir, "linked.yaml"))
	os.WriteFile(filepath.Join(dir, ".env"), []byte("API_TOKEN=tok-ENVSECRET\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "creds.yaml"), []byte("password: hunter2SECRET\nuser: me\n"), 0o600)
	rel, _ := filepath.Rel(dir, filepath.Join(outside, "shared.yaml"))
	cases := []struct {
		include string
		dirs    []string
		want    string // "" when the include is allowed
	}{
		{shadow, nil, "cannot include " + shadow + ": it is outside the recipe's folder"},
		{rel, nil, "it is outside the recipe's folder"},
		{"linked.yaml", nil, "it is outside the recipe's folder"},
		{"linked.yaml", []string{outside}, ""},
		{rel, []string{outside}, ""},
		{shadow, []string{outside}, "not a runner recipe"},
		{".env", nil, "not a runner recipe"},
		{"creds.yaml", nil, "not a runner recipe"},
	}
	for _, c := range cases {
		t.Run(c.include+strings.Join(c.dirs, ","), func(t *testing.T) {
			path := writeRecipe(t, dir, "main.yaml", "version: 1\ninclude: ["+c.include+"]\ntasks:\n  main:\n    uses: echo\n    with: {message: main}\n")
			_, err := recipe.Load(path, recipe.Options{Registry: testRegistry(), IncludeDirs: c.dirs})
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want …%s…", err, c.want)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Fatalf("the error quotes the file's content:\n%v", err)
			}
		})
	}
}
