// Package dag builds the dependency graph of a recipe's tasks and answers
// questions about it — execution order, cycles, ancestors — without running
// anything. Ties are broken by the order tasks appear in the file.
package dag
