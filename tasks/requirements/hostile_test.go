package requirements_test

import (
	"strings"
	"testing"
)

// A VCS or URL line names no package before its scheme: it is not the
// package "git" or "https", which an unrelated git==2.0 in the lock would
// otherwise "pin".
func TestAVCSOrURLLineIsNotAPackageNamedAfterItsScheme(t *testing.T) {
	_, err := run(t, map[string]string{
		"requirements.txt":  "git+https://github.com/x/y.git@v1#egg=yfoo\nhttps://example.com/foo-1.0.tar.gz\n",
		"requirements.lock": "git==2.0\nhttps==1.0\n",
	})
	if err == nil {
		t.Fatal("a VCS line passed as the package git")
	}
	for _, want := range []string{
		`requirements.txt:1: git+https://github.com/x/y.git@v1#egg=yfoo is a URL`,
		`requirements.txt:2: https://example.com/foo-1.0.tar.gz is a URL`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the report lacks %q:\n%v", want, err)
		}
	}
}
