// Package quality scores a clustering against ground-truth groups: the
// adjusted Rand index, normalised mutual information and the spillover rate.
//
// Labels are arbitrary integers; a negative predicted label means noise. ARI
// and NMI follow scikit-learn's adjusted_rand_score and
// normalized_mutual_info_score (arithmetic-mean normalisation) and treat noise
// as one more label, as scikit-learn does when handed HDBSCAN's -1.
package quality

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
)

// contingency counts co-occurrences of truth and predicted labels.
type contingency struct {
	n      int
	cells  map[[2]int]int
	rows   map[int]int // truth label -> count
	cols   map[int]int // predicted label -> count
	groups int
}

func newContingency(truth, pred []int) (*contingency, error) {
	if len(truth) != len(pred) {
		return nil, fmt.Errorf("quality: %d truth labels but %d predicted labels", len(truth), len(pred))
	}
	c := &contingency{n: len(truth), cells: map[[2]int]int{}, rows: map[int]int{}, cols: map[int]int{}}
	for i := range truth {
		c.cells[[2]int{truth[i], pred[i]}]++
		c.rows[truth[i]]++
		c.cols[pred[i]]++
	}
	return c, nil
}

func comb2(x int) float64 { return float64(x) * float64(x-1) / 2 }

// AdjustedRandIndex returns the Rand index adjusted for chance: 1 for
// identical partitions (up to relabelling), about 0 for random ones, and
// negative when agreement is worse than chance. It returns an error when the
// two slices differ in length.
func AdjustedRandIndex(truth, pred []int) (float64, error) {
	c, err := newContingency(truth, pred)
	if err != nil {
		return 0, err
	}
	if c.n < 2 {
		return 1, nil
	}
	var sumCells, sumRows, sumCols float64
	for _, v := range c.cells {
		sumCells += comb2(v)
	}
	for _, v := range c.rows {
		sumRows += comb2(v)
	}
	for _, v := range c.cols {
		sumCols += comb2(v)
	}
	expected := sumRows * sumCols / comb2(c.n)
	maxIndex := (sumRows + sumCols) / 2
	if maxIndex == expected {
		// Both partitions are trivial (one group, or all singletons): scikit-learn returns 1.
		return 1, nil
	}
	return (sumCells - expected) / (maxIndex - expected), nil
}

// NMI returns the mutual information of the two labelings normalised by the
// arithmetic mean of their entropies (scikit-learn's default; equal to the
// V-measure). It is 1 for identical partitions and 0 for independent ones.
func NMI(truth, pred []int) (float64, error) {
	c, err := newContingency(truth, pred)
	if err != nil {
		return 0, err
	}
	if c.n == 0 {
		return 1, nil
	}
	n := float64(c.n)
	entropy := func(m map[int]int) float64 {
		var h float64
		for _, k := range slices.Sorted(maps.Keys(m)) { // in order: the same sum every run
			p := float64(m[k]) / n
			h -= p * math.Log(p)
		}
		return h
	}
	hTruth, hPred := entropy(c.rows), entropy(c.cols)
	if len(c.rows) == 1 && len(c.cols) == 1 {
		return 1, nil
	}
	if hTruth == 0 || hPred == 0 {
		return 0, nil
	}
	var mi float64
	cells := slices.SortedFunc(maps.Keys(c.cells), func(a, b [2]int) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	for _, k := range cells { // in order: the same sum every run
		pij := float64(c.cells[k]) / n
		pi := float64(c.rows[k[0]]) / n
		pj := float64(c.cols[k[1]]) / n
		mi += pij * math.Log(pij/(pi*pj))
	}
	mi = math.Max(mi, 0)
	return mi / ((hTruth + hPred) / 2), nil
}

// Spillover returns the share of ground-truth groups whose members were
// assigned to more than one predicted cluster. Points predicted as noise
// (negative labels) are ignored, so a group that is partly noise but
// otherwise in one cluster does not count as split. It is 0 when every
// group landed in a single cluster, and 0 for an empty input.
func Spillover(truth, pred []int) (float64, error) {
	if len(truth) != len(pred) {
		return 0, fmt.Errorf("quality: %d truth labels but %d predicted labels", len(truth), len(pred))
	}
	clustersOf := map[int]map[int]struct{}{}
	for i, g := range truth {
		set, ok := clustersOf[g]
		if !ok {
			set = map[int]struct{}{}
			clustersOf[g] = set
		}
		if pred[i] >= 0 {
			set[pred[i]] = struct{}{}
		}
	}
	if len(clustersOf) == 0 {
		return 0, nil
	}
	split := 0
	for _, set := range clustersOf {
		if len(set) > 1 {
			split++
		}
	}
	return float64(split) / float64(len(clustersOf)), nil
}
