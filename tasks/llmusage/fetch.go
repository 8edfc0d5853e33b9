package llmusage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/novelfactory/runner/engine/atomicfile"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/regfile"
	"github.com/novelfactory/runner/internal/tabular"
	"github.com/novelfactory/runner/tasks/internal/tokens"
)

// dayLayout is how days are written: in params, file names and outputs.
const dayLayout = "2006-01-02"

// maxPages is the most pages one range may take: far more than 180 days
// of buckets need, so that a server that never stops paging is an error
// rather than a loop.
const maxPages = 1000

// dayFile is a day in the cache: a page of the provider's buckets, which
// tokencost reads as it reads a saved export, and runner's record of the
// fetch beside them.
type dayFile struct {
	Object string            `json:"object"`
	Runner dayMeta           `json:"runner"`
	Data   []json.RawMessage `json:"data"`
}

// dayMeta records how a day was fetched.
type dayMeta struct {
	Provider    string    `json:"provider"`
	Report      string    `json:"report"`
	Day         string    `json:"day"`
	BucketWidth string    `json:"bucket_width"`
	Endpoint    string    `json:"endpoint"`
	FetchedAt   time.Time `json:"fetched_at"`
	// Complete says the fetch came after the day ended.
	Complete bool `json:"complete"`
}

// job is one report of one provider to bring up to date.
type job struct {
	report string
	ep     endpoint
	width  string
	dir    string
	from   time.Time   // the first day considered
	to     time.Time   // the last day considered
	need   []time.Time // the days in from…to that are not final
}

// jobs works out, from the cache alone, what each report needs.
func jobs(env *tasktype.Env, p *Params, now time.Time) ([]job, error) {
	today := now.UTC().Truncate(24 * time.Hour)
	until := p.until
	if until.IsZero() {
		until = today
	}
	for _, d := range []struct {
		name string
		day  time.Time
	}{{"since", p.since}, {"until", until}} {
		if d.day.After(today) {
			return nil, fmt.Errorf("%s %s is in the future: today is %s in UTC, the days the providers count in, and they report past usage only",
				d.name, d.day.Format(dayLayout), today.Format(dayLayout))
		}
	}
	var out []job
	for _, report := range p.reports {
		ep := p.api.reports[report]
		width := "1d"
		if report == reportUsage {
			width = p.BucketWidth
		}
		j := job{report: report, ep: ep, width: width, dir: filepath.Join(env.Path(string(p.Cache)), p.Provider, report), to: until}
		j.from = p.since
		if j.from.IsZero() {
			newest, err := newestFinal(j.dir, p, j, until)
			if err != nil {
				return nil, err
			}
			if newest.IsZero() {
				j.from = until.AddDate(0, 0, -maxLookback)
			} else {
				j.from = newest.AddDate(0, 0, 1)
			}
		}
		for d := j.from; !d.After(j.to); d = d.AddDate(0, 0, 1) {
			if !isFinal(j.dir, p, j, d) {
				j.need = append(j.need, d)
			}
		}
		out = append(out, j)
	}
	return out, nil
}

// newestFinal returns the newest day up to until that the cache holds as
// final, or the zero time.
func newestFinal(dir string, p *Params, j job, until time.Time) (time.Time, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, nil
	} else if err != nil {
		return time.Time{}, fmt.Errorf("read the cache: %w", err)
	}
	var days []time.Time
	for _, e := range entries {
		if d, ok := dayOfName(e.Name()); ok && !d.After(until) {
			days = append(days, d)
		}
	}
	slices.SortFunc(days, func(a, b time.Time) int { return b.Compare(a) })
	for _, d := range days {
		if isFinal(dir, p, j, d) {
			return d, nil
		}
	}
	return time.Time{}, nil
}

// dayOfName reads the day of a cache file's name, YYYY-MM-DD.json.
func dayOfName(name string) (time.Time, bool) {
	base, ok := strings.CutSuffix(name, ".json")
	if !ok || len(base) != len(dayLayout) {
		return time.Time{}, false
	}
	d, err := time.Parse(dayLayout, base)
	return d, err == nil
}

// isFinal says whether the cache's file for day d was fetched, complete,
// at least revision_days after the day ended, in the width asked for. A
// file that cannot be read or does not say so is not final: it is
// fetched again and replaced.
func isFinal(dir string, p *Params, j job, d time.Time) bool {
	m, err := readMeta(filepath.Join(dir, d.Format(dayLayout)+".json"))
	if err != nil {
		return false
	}
	settled := d.AddDate(0, 0, 1+p.RevisionDays)
	return m.Provider == p.Provider && m.Report == j.report && m.Day == d.Format(dayLayout) &&
		m.BucketWidth == j.width && m.Complete && !m.FetchedAt.Before(settled)
}

// readMeta reads runner's record of a cached day.
func readMeta(path string) (dayMeta, error) {
	data, err := regfile.ReadFile(path)
	if err != nil {
		return dayMeta{}, err
	}
	var f dayFile
	if err := json.Unmarshal(data, &f); err != nil {
		return dayMeta{}, err
	}
	return f.Runner, nil
}

// ranges splits days (in order) into runs of consecutive days.
func ranges(days []time.Time) [][2]time.Time {
	var out [][2]time.Time
	for _, d := range days {
		if n := len(out); n > 0 && out[n-1][1].AddDate(0, 0, 1).Equal(d) {
			out[n-1][1] = d
			continue
		}
		out = append(out, [2]time.Time{d, d})
	}
	return out
}

// plan says what run would fetch, from the cache alone.
func plan(_ context.Context, env *tasktype.Env, p *Params, d deps) (tasktype.Plan, error) {
	if key := env.Getenv(p.keyEnv); key == "" {
		return tasktype.Plan{}, missingKey(p)
	} else if env.Secrets != nil {
		env.Secrets.Add(key)
	}
	js, err := jobs(env, p, d.now())
	if err != nil {
		return tasktype.Plan{}, err
	}
	var parts []string
	for _, j := range js {
		what := fmt.Sprintf("%s %s", p.Provider, j.report)
		if len(j.need) == 0 {
			parts = append(parts, fmt.Sprintf("%s: every day from %s to %s is final in the cache", what, j.from.Format(dayLayout), j.to.Format(dayLayout)))
			continue
		}
		rs := ranges(j.need)
		parts = append(parts, fmt.Sprintf("would fetch %s for %d day(s) from %s to %s, in %d range(s), into %s",
			what, len(j.need), j.need[0].Format(dayLayout), j.need[len(j.need)-1].Format(dayLayout), len(rs), j.dir))
	}
	return tasktype.Plan{
		Summary: strings.Join(parts, "; "),
		Outputs: tasktype.Outputs{"dir": filepath.Join(env.Path(string(p.Cache)), p.Provider)},
	}, nil
}

// missingKey is the error when the key's variable is empty.
func missingKey(p *Params) error {
	kind := "an admin key of the organization (sk-admin-…)"
	if p.Provider == "anthropic" {
		kind = "an Admin API key of the organization (sk-ant-admin…)"
	}
	return fmt.Errorf("%s is not set: give it %s; see docs/finance.md", p.keyEnv, kind)
}

// run fetches what is not final and writes it into the cache.
func run(ctx context.Context, env *tasktype.Env, p *Params, d deps) (tasktype.Outputs, error) {
	key := env.Getenv(p.keyEnv)
	if key == "" {
		return nil, missingKey(p)
	}
	if env.Secrets != nil {
		env.Secrets.Add(key)
	}
	js, err := jobs(env, p, d.now())
	if err != nil {
		return nil, err
	}
	c := &client{p: p, env: env, d: d, key: key}
	fetched := map[string]bool{}
	for _, j := range js {
		what := fmt.Sprintf("%s %s", p.Provider, j.report)
		if len(j.need) == 0 {
			fmt.Fprintf(env.Log, "%s: every day from %s to %s is final in the cache: nothing to fetch\n", what, j.from.Format(dayLayout), j.to.Format(dayLayout))
			continue
		}
		for _, r := range ranges(j.need) {
			before := c.requests
			days, err := fetchRange(ctx, c, j, r[0], r[1])
			if err != nil {
				return nil, err
			}
			for _, day := range days {
				fetched[day] = true
			}
			fmt.Fprintf(env.Log, "%s: %d day(s) from %s to %s in %d request(s) → %s\n", what, len(days), r[0].Format(dayLayout), r[1].Format(dayLayout), c.requests-before, j.dir)
		}
	}
	out := tasktype.Outputs{
		"dir":      filepath.Join(env.Path(string(p.Cache)), p.Provider),
		"requests": c.requests,
	}
	for _, report := range []string{reportCosts, reportUsage} {
		files, err := cached(filepath.Join(env.Path(string(p.Cache)), p.Provider, report))
		if err != nil {
			return nil, err
		}
		out[report] = files
	}
	sorted := make([]string, 0, len(fetched))
	for day := range fetched {
		sorted = append(sorted, day)
	}
	slices.Sort(sorted)
	days := make([]any, len(sorted))
	for i, day := range sorted {
		days[i] = day
	}
	out["fetched"] = days
	return out, nil
}

// cached lists the day files of a report's folder, oldest first.
func cached(dir string) ([]any, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []any{}, nil
	} else if err != nil {
		return nil, fmt.Errorf("read the cache: %w", err)
	}
	files := []any{}
	for _, e := range entries { // ReadDir sorts by name: by day
		if _, ok := dayOfName(e.Name()); ok && e.Type().IsRegular() {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	return files, nil
}

// page is an answer of either admin API.
type page struct {
	Data     *[]json.RawMessage `json:"data"`
	HasMore  bool               `json:"has_more"`
	NextPage *string            `json:"next_page"`
}

// fetchRange fetches the days from…to of a report, every page of them,
// then writes one file per day. Nothing is written unless every page
// arrived and every day parses as tokencost will read it. It returns the
// days written.
func fetchRange(ctx context.Context, c *client, j job, from, to time.Time) ([]string, error) {
	p := c.p
	started := c.d.now().UTC()
	end := to.AddDate(0, 0, 1)
	if end.After(started) {
		end = time.Time{} // up to now: the range ends today
	}
	q := url.Values{}
	p.api.setRange(q, from, end)
	q.Set("bucket_width", j.width)
	buckets := int(to.Sub(from).Hours()/24) + 1
	if j.width == "1h" {
		buckets *= 24
	}
	q.Set("limit", strconv.Itoa(min(buckets, j.ep.widths[j.width])))
	j.ep.query(q)

	byDay := map[string][]json.RawMessage{}
	seen := map[string]bool{}
	cursor := ""
	for n := 1; ; n++ {
		pq := url.Values{}
		for k, v := range q {
			pq[k] = v
		}
		if cursor != "" {
			pq.Set("page", cursor)
		}
		shown := j.ep.path + "?" + pq.Encode()
		body, err := c.get(ctx, j.ep.path, pq)
		if err != nil {
			return nil, err
		}
		var pg page
		if err := json.Unmarshal(body, &pg); err != nil {
			return nil, malformed(c, shown, body, tabular.Cut(err.Error()))
		}
		if pg.Data == nil {
			return nil, malformed(c, shown, body, `no "data" list of buckets`)
		}
		for _, b := range *pg.Data {
			start, err := bucketStart(b, p.api.startField)
			if err != nil {
				return nil, malformed(c, shown, body, err.Error())
			}
			day := start.Truncate(24 * time.Hour)
			if day.Before(from) || day.After(to) {
				continue // the provider snapped the range wider: not asked for
			}
			byDay[day.Format(dayLayout)] = append(byDay[day.Format(dayLayout)], b)
		}
		if !pg.HasMore {
			break
		}
		switch {
		case pg.NextPage == nil || *pg.NextPage == "":
			return nil, malformed(c, shown, body, `"has_more" is true but there is no "next_page"`)
		case seen[*pg.NextPage]:
			return nil, fmt.Errorf("%s: GET %s: the server gave the page %q a second time: stopping rather than paging forever", p.Provider, shown, *pg.NextPage)
		case n >= maxPages:
			return nil, fmt.Errorf("%s: GET %s: more than %d pages for %d days: stopping", p.Provider, shown, maxPages, buckets)
		}
		seen[*pg.NextPage] = true
		cursor = *pg.NextPage
	}

	type out struct {
		path string
		data []byte
	}
	var files []out
	var days []string
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		day := d.Format(dayLayout)
		doc := dayFile{Object: "page", Data: byDay[day], Runner: dayMeta{
			Provider: p.Provider, Report: j.report, Day: day, BucketWidth: j.width, Endpoint: j.ep.path,
			FetchedAt: started, Complete: !started.Before(d.AddDate(0, 0, 1)),
		}}
		if doc.Data == nil {
			doc.Data = []json.RawMessage{}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(doc); err != nil {
			return nil, fmt.Errorf("%s %s: write %s: %w", p.Provider, j.report, day, err)
		}
		where := fmt.Sprintf("%s %s of %s (GET %s)", p.Provider, j.report, day, j.ep.path)
		if _, _, err := tokens.ReadPages(ctx, where, bytes.NewReader(buf.Bytes()), func(tokens.Record) error { return nil }); err != nil {
			return nil, fmt.Errorf("%s: not as documented, so tokencost could not read it: nothing of %s to %s was written", c.mask(err.Error()), from.Format(dayLayout), to.Format(dayLayout))
		}
		files = append(files, out{filepath.Join(j.dir, day+".json"), buf.Bytes()})
		days = append(days, day)
	}
	if err := os.MkdirAll(j.dir, 0o755); err != nil {
		return nil, fmt.Errorf("make the cache folder: %w", err)
	}
	for _, f := range files {
		if err := atomicfile.WriteFile(f.path, f.data, 0o644); err != nil {
			return nil, fmt.Errorf("write the cache: %w", err)
		}
	}
	return days, nil
}

// malformed is the error for an answer that is not a page of buckets: it
// names the request and quotes the answer's first bytes.
func malformed(c *client, shown string, body []byte, why string) error {
	return fmt.Errorf("%s: GET %s: the answer is not a page of buckets (%s); it starts with %s",
		c.p.Provider, shown, c.mask(why), tabular.Quote(c.mask(string(body[:min(len(body), 1024)]))))
}
