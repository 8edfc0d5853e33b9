package tabular

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// readHTML reads the data table of an HTML page saved as .xls (Naver
// Series, Novelpia): the table with the most rows. Header cells spanning
// columns above others are flattened as "group / column".
func readHTML(path string, data []byte, opt Options) (Table, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	cp949, err := detectEncoding(path, data, opt.Encoding)
	if err != nil {
		return nil, err
	}
	if cp949 {
		if data, err = DecodeAll(data); err != nil {
			return nil, fmt.Errorf("decode %s as CP949: %w", path, err)
		}
	}
	doc, err := html.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parse %s as HTML: %w", path, err)
	}
	var best [][]htmlCell
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.DataAtom == atom.Table {
			if rows := tableRows(n); len(rows) > len(best) {
				best = rows
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if len(best) == 0 {
		return nil, fmt.Errorf("%s has no table", path)
	}
	grid, err := expandSpans(path, best)
	if err != nil {
		return nil, err
	}
	headerRows := 1
	for headerRows < len(best) && allHeaderCells(best[headerRows]) {
		headerRows++
	}
	if opt.HeaderRow > 1 { // the recipe says where the header is
		return fromRows(path, "html", grid, nil, opt)
	}
	// Flatten header rows: "group / column" where a cell spans columns above.
	header := make([]string, len(grid[0]))
	for col := range header {
		var parts []string
		for r := 0; r < headerRows; r++ {
			if v := strings.TrimSpace(grid[r][col]); v != "" && (len(parts) == 0 || parts[len(parts)-1] != v) {
				parts = append(parts, v)
			}
		}
		header[col] = strings.Join(parts, " / ")
	}
	rows := append([][]string{header}, grid[headerRows:]...)
	return fromRows(path, "html", rows, nil, Options{HeaderRow: 1, SkipRows: opt.SkipRows})
}

type htmlCell struct {
	text             string
	header           bool
	rowspan, colspan int
}

func tableRows(table *html.Node) [][]htmlCell {
	var rows [][]htmlCell
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.DataAtom == atom.Table && n != table {
			return // a nested table is not this one's rows
		}
		if n.Type == html.ElementNode && n.DataAtom == atom.Tr {
			var row []htmlCell
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && (c.DataAtom == atom.Td || c.DataAtom == atom.Th) {
					row = append(row, htmlCell{text: textOf(c), header: c.DataAtom == atom.Th, rowspan: spanAttr(c, "rowspan"), colspan: spanAttr(c, "colspan")})
				}
			}
			rows = append(rows, row)
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(table)
	return rows
}

func spanAttr(n *html.Node, name string) int {
	for _, a := range n.Attr {
		if a.Key == name {
			if v, err := strconv.Atoi(strings.TrimSpace(a.Val)); err == nil && v > 0 && v < 1000 {
				return v
			}
		}
	}
	return 1
}

func textOf(n *html.Node) string {
	var sb strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			sb.WriteString(n.Data)
		case n.Type == html.ElementNode && n.DataAtom == atom.Br:
			sb.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(strings.ReplaceAll(sb.String(), "\u00a0", " ")), " ")
}

// maxCells is the most cells a table may have once each merged cell is
// repeated in every place it covers: 200 cells of rowspan=999
// colspan=999 once spread to 14 GB.
var maxCells = 10_000_000

// expandSpans lays cells out on a grid, repeating a spanning cell's text in
// every place it covers. A rowspan ends with the table.
func expandSpans(name string, rows [][]htmlCell) ([][]string, error) {
	var grid [][]string
	// down holds, by column, the last cell that spans rows down into it.
	type span struct {
		from, until int // the rows it starts in and covers up to
		text        string
	}
	var down []span
	cells := 0
	for r, row := range rows {
		var out []string
		col := 0
		place := func() {
			for col < len(down) && down[col].from < r && r <= down[col].until {
				out = append(out, down[col].text)
				col++
			}
		}
		for _, c := range row {
			place()
			until := min(r+c.rowspan-1, len(rows)-1)
			if cells+len(out)+c.colspan > maxCells {
				return nil, fmt.Errorf("%s: the table spreads to more than %d cells once its merged cells are repeated (row %d)", name, maxCells, r+1)
			}
			for dc := 0; dc < c.colspan; dc++ {
				out = append(out, c.text)
				for len(down) <= col {
					down = append(down, span{})
				}
				down[col] = span{r, until, c.text}
				col++
			}
		}
		place()
		if cells += len(out); cells > maxCells { // what place added
			return nil, fmt.Errorf("%s: the table spreads to more than %d cells once its merged cells are repeated (row %d)", name, maxCells, r+1)
		}
		grid = append(grid, out)
	}
	width := 0
	for _, r := range grid {
		width = max(width, len(r))
	}
	if width*len(grid) > maxCells {
		return nil, fmt.Errorf("%s: the table spreads to %d × %d cells once its merged cells are repeated, more than %d", name, len(grid), width, maxCells)
	}
	for i := range grid {
		for len(grid[i]) < width {
			grid[i] = append(grid[i], "")
		}
	}
	return grid, nil
}

func allHeaderCells(row []htmlCell) bool {
	if len(row) == 0 {
		return false
	}
	for _, c := range row {
		if !c.header {
			return false
		}
	}
	return true
}
