package dag

import (
	"container/heap"
	"fmt"
)

// Graph is a directed acyclic graph of task ids; an edge a→b means b needs a.
type Graph struct {
	ids        []string
	index      map[string]int
	needs      [][]int // needs[i]: what i waits for
	dependents [][]int // dependents[i]: what waits for i
}

// New builds a graph over ids (in file order) with needs[id] listing what id
// waits for. Unknown ids in needs are an error; cycles are reported by Cycles.
func New(ids []string, needs map[string][]string) (*Graph, error) {
	g := &Graph{ids: ids, index: make(map[string]int, len(ids)), needs: make([][]int, len(ids)), dependents: make([][]int, len(ids))}
	for i, id := range ids {
		g.index[id] = i
	}
	for i, id := range ids {
		for _, n := range needs[id] {
			j, ok := g.index[n]
			if !ok {
				return nil, fmt.Errorf("task %q needs unknown task %q", id, n)
			}
			g.needs[i] = append(g.needs[i], j)
			g.dependents[j] = append(g.dependents[j], i)
		}
	}
	return g, nil
}

// IDs returns the ids in file order.
func (g *Graph) IDs() []string { return g.ids }

// Index returns the file-order position of id, or -1.
func (g *Graph) Index(id string) int {
	if i, ok := g.index[id]; ok {
		return i
	}
	return -1
}

// Needs returns the positions of the tasks task i waits for.
func (g *Graph) Needs(i int) []int { return g.needs[i] }

// Dependents returns the positions of the tasks that wait for task i.
func (g *Graph) Dependents(i int) []int { return g.dependents[i] }

// Order returns a topological order, taking among the ready tasks the one
// that comes first in the file. It returns an error naming a cycle if any.
func (g *Graph) Order() ([]string, error) {
	indeg := make([]int, len(g.ids))
	for i := range g.ids {
		indeg[i] = len(g.needs[i])
	}
	ready := &intHeap{}
	for i, d := range indeg {
		if d == 0 {
			heap.Push(ready, i)
		}
	}
	order := make([]string, 0, len(g.ids))
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		order = append(order, g.ids[i])
		for _, j := range g.dependents[i] {
			if indeg[j]--; indeg[j] == 0 {
				heap.Push(ready, j)
			}
		}
	}
	if len(order) != len(g.ids) {
		cycles := g.Cycles()
		return nil, fmt.Errorf("cycle: %v", cycles[0])
	}
	return order, nil
}

// Cycles returns one cycle (as ids, first repeated at the end) for each
// strongly connected group of tasks that wait on each other, including a
// task that needs itself. Cycles are ordered by their first task in the file.
func (g *Graph) Cycles() [][]string {
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(g.ids))
	var cycles [][]string
	var stack []int
	var visit func(i int)
	visit = func(i int) {
		color[i] = grey
		stack = append(stack, i)
		for _, j := range g.needs[i] {
			switch color[j] {
			case white:
				visit(j)
			case grey:
				// j is on the stack: the cycle is stack[pos(j):] + j.
				k := len(stack) - 1
				for stack[k] != j {
					k--
				}
				// In walk order this reads "a needs b needs c needs a".
				var c []string
				for _, m := range stack[k:] {
					c = append(c, g.ids[m])
				}
				c = append(c, g.ids[j])
				cycles = append(cycles, rotate(c, g))
			}
		}
		stack = stack[:len(stack)-1]
		color[i] = black
	}
	for i := range g.ids {
		if color[i] == white {
			visit(i)
		}
	}
	return cycles
}

// rotate starts a cycle at its task that comes first in the file.
func rotate(c []string, g *Graph) []string {
	ring := c[:len(c)-1]
	best := 0
	for i, id := range ring {
		if g.index[id] < g.index[ring[best]] {
			best = i
		}
	}
	out := append([]string{}, ring[best:]...)
	out = append(out, ring[:best]...)
	return append(out, out[0])
}

// Ancestors returns every task that task i transitively waits for.
func (g *Graph) Ancestors(i int) map[int]bool {
	seen := map[int]bool{}
	var walk func(int)
	walk = func(k int) {
		for _, j := range g.needs[k] {
			if !seen[j] {
				seen[j] = true
				walk(j)
			}
		}
	}
	walk(i)
	return seen
}

type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
