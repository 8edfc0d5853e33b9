package githubrelease

import (
	"strings"
	"testing"
)

// The token goes in every request's Authorization header: an api_url of
// plain http to another machine would send it in clear. Only a loopback
// address (a test server, a local proxy) may be plain http.
func TestPlainHTTPToAnotherHostIsRefusedBeforeAnyRequest(t *testing.T) {
	for _, api := range []string{"http://ghe.example.com/api/v3", "http://10.0.0.5:8080/api/v3", "HTTP://ghe.example.com/api/v3"} {
		h := newHarness(t)
		h.env = []string{"GITHUB_TOKEN=" + h.gh.Token(), "GITHUB_REPOSITORY=books/factory"}
		p := baseParams()
		p.APIURL = api
		_, err := h.run(p)
		if err == nil || !strings.Contains(err.Error(), "https") {
			t.Errorf("%s: error %v, want one asking for https", api, err)
		}
		if err != nil && strings.Contains(err.Error(), h.gh.Token()) {
			t.Errorf("%s: the error shows the token", api)
		}
	}
}
