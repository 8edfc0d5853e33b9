// Package tokens prices LLM usage: it reads usage records — runner-style
// JSONL call logs and the usage and cost exports of the OpenAI and
// Anthropic admin APIs — and a price table with an effective date per
// price, and gives the cost per day (and model) in exact decimals.
package tokens

import (
	"bytes"
	_ "embed" // the default price table
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/novelfactory/runner/internal/decimal"
	"github.com/novelfactory/runner/internal/tabular"
)

//go:embed prices.yaml
var defaultPrices []byte

// DefaultPrices is the shipped price table, as YAML.
func DefaultPrices() []byte { return defaultPrices }

// Prices is a price table.
type Prices struct {
	Currency string `yaml:"currency"`
	Per      int64  `yaml:"per"`
	Models   []Rule `yaml:"models"`
}

// Rule prices the models whose names match a glob.
type Rule struct {
	Match  string  `yaml:"match"`
	Prices []Price `yaml:"prices"`
}

// Price is what tokens cost from a day on, per Prices.Per tokens.
type Price struct {
	From       string `yaml:"from"`
	Input      string `yaml:"input"`
	Output     string `yaml:"output"`
	CacheRead  string `yaml:"cache_read"`
	CacheWrite string `yaml:"cache_write"`

	from                                 time.Time
	input, output, cacheRead, cacheWrite decimal.Dec
}

// ParsePrices reads a price table (name is for messages).
func ParsePrices(name string, data []byte) (*Prices, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Prices
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("price table %s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if p.Per <= 0 {
		p.Per = 1_000_000
	}
	if p.Currency == "" {
		p.Currency = "USD"
	}
	if len(p.Models) == 0 {
		return nil, fmt.Errorf("price table %s has no models", name)
	}
	for i := range p.Models {
		r := &p.Models[i]
		if _, err := path.Match(r.Match, "x"); err != nil || r.Match == "" {
			return nil, fmt.Errorf("price table %s: match %s is not a glob", name, tabular.Quote(r.Match))
		}
		if len(r.Prices) == 0 {
			return nil, fmt.Errorf("price table %s: %s has no prices", name, r.Match)
		}
		for j := range r.Prices {
			pr := &r.Prices[j]
			var err error
			if pr.from, err = time.Parse("2006-01-02", pr.From); err != nil {
				return nil, fmt.Errorf("price table %s: %s: from %s: use YYYY-MM-DD", name, r.Match, tabular.Quote(pr.From))
			}
			for _, f := range []struct {
				text string
				dst  *decimal.Dec
				what string
			}{{pr.Input, &pr.input, "input"}, {pr.Output, &pr.output, "output"}, {pr.CacheRead, &pr.cacheRead, "cache_read"}, {pr.CacheWrite, &pr.cacheWrite, "cache_write"}} {
				d, ok, err := decimal.Parse(f.text)
				if err != nil {
					return nil, fmt.Errorf("price table %s: %s %s: %s %v", name, r.Match, f.what, tabular.Quote(f.text), err)
				}
				if ok {
					*f.dst = d
				} else if f.what == "cache_read" {
					*f.dst = pr.input // no cache price: cached input costs as input
				} else if f.what == "cache_write" {
					*f.dst = pr.input
				}
			}
		}
		sort.Slice(r.Prices, func(a, b int) bool { return r.Prices[a].from.Before(r.Prices[b].from) })
	}
	return &p, nil
}

// lookup finds the price of model on day.
func (p *Prices) lookup(model string, day time.Time) (*Price, error) {
	for i := range p.Models {
		r := &p.Models[i]
		if ok, _ := path.Match(r.Match, model); !ok {
			continue
		}
		var found *Price
		for j := range r.Prices {
			if !r.Prices[j].from.After(day) {
				found = &r.Prices[j]
			}
		}
		if found == nil {
			return nil, fmt.Errorf("model %s has no price before %s (the first, for %s, is from %s)", tabular.Quote(model), day.Format("2006-01-02"), r.Match, r.Prices[0].From)
		}
		return found, nil
	}
	var known []string
	for _, r := range p.Models {
		known = append(known, r.Match)
	}
	return nil, fmt.Errorf("unknown model %s: the price table knows %s; add it to your prices: file (or a match: \"*\" rule)", tabular.Quote(model), tabular.ListNames(known))
}
