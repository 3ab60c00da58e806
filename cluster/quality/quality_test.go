package quality

import (
	"math"
	"testing"
)

// Expected values were derived by hand from the definitions (shown in the
// comments) and agree with scikit-learn's documented examples, e.g.
// adjusted_rand_score([0,0,1,2],[0,0,1,1]) = 0.5714 and, for
// [0,0,0,1,1,1] vs [0,0,1,1,2,2], ARI 0.2424 and V-measure (= NMI) 0.5158.
const tol = 1e-12

func TestAdjustedRandIndex(t *testing.T) {
	tests := []struct {
		name        string
		truth, pred []int
		want        float64
	}{
		{"identical", []int{0, 0, 1, 1}, []int{0, 0, 1, 1}, 1},
		{"relabelled", []int{0, 0, 1, 1}, []int{5, 5, -1, -1}, 1},
		// sum C(nij,2)=1, rows 1+0+0=1, cols 1+1=2, n=4: E=1*2/6=1/3, max=1.5 -> (1-1/3)/(1.5-1/3)=4/7
		{"sklearn doc example", []int{0, 0, 1, 2}, []int{0, 0, 1, 1}, 4.0 / 7.0},
		{"symmetric", []int{0, 0, 1, 1}, []int{0, 0, 1, 2}, 4.0 / 7.0},
		// cells 0, rows 2, cols 2, n=4: E=2*2/6=2/3, max=2 -> (0-2/3)/(2-2/3) = -0.5
		{"anti-correlated", []int{0, 0, 1, 1}, []int{0, 1, 0, 1}, -0.5},
		{"all singletons vs one group", []int{0, 0, 0, 0}, []int{0, 1, 2, 3}, 0},
		// cells 2, rows 6, cols 3, n=6: E=6*3/15=1.2, max=4.5 -> 0.8/3.3
		{"user guide example", []int{0, 0, 0, 1, 1, 1}, []int{0, 0, 1, 1, 2, 2}, 0.8 / 3.3},
		{"both trivial", []int{1, 1, 1}, []int{2, 2, 2}, 1},
		{"single point", []int{3}, []int{4}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AdjustedRandIndex(tt.truth, tt.pred)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tt.want) > tol {
				t.Errorf("ARI = %.15f, want %.15f", got, tt.want)
			}
		})
	}
}

func TestNMI(t *testing.T) {
	ln2, ln3 := math.Log(2), math.Log(3)
	tests := []struct {
		name        string
		truth, pred []int
		want        float64
	}{
		{"identical", []int{0, 0, 1, 1, 2}, []int{0, 0, 1, 1, 2}, 1},
		{"relabelled", []int{0, 0, 1, 1}, []int{7, 7, 3, 3}, 1},
		// MI = (2/3)ln2, H(truth)=ln2, H(pred)=ln3
		{"user guide example", []int{0, 0, 0, 1, 1, 1}, []int{0, 0, 1, 1, 2, 2}, (2.0 / 3.0 * ln2) / ((ln2 + ln3) / 2)},
		{"independent", []int{0, 0, 1, 1}, []int{0, 1, 0, 1}, 0},
		{"one predicted cluster", []int{0, 0, 1, 1}, []int{0, 0, 0, 0}, 0},
		{"both trivial", []int{0, 0}, []int{1, 1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NMI(tt.truth, tt.pred)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tt.want) > tol {
				t.Errorf("NMI = %.15f, want %.15f", got, tt.want)
			}
		})
	}
}

func TestSpillover(t *testing.T) {
	tests := []struct {
		name        string
		truth, pred []int
		want        float64
	}{
		{"none split", []int{0, 0, 1, 1}, []int{3, 3, 4, 4}, 0},
		{"one of two split", []int{0, 0, 1, 1}, []int{3, 4, 5, 5}, 0.5},
		{"noise ignored", []int{0, 0, 0, 1}, []int{3, -1, 3, -1}, 0},
		{"merged groups are not split", []int{0, 0, 1, 1}, []int{2, 2, 2, 2}, 0},
		{"all split", []int{0, 0, 1, 1, 2, 2}, []int{0, 1, 2, 3, 4, 5}, 1},
		{"empty", nil, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Spillover(tt.truth, tt.pred)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tt.want) > tol {
				t.Errorf("Spillover = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLengthMismatch(t *testing.T) {
	for name, f := range map[string]func([]int, []int) (float64, error){
		"ARI": AdjustedRandIndex, "NMI": NMI, "Spillover": Spillover,
	} {
		if _, err := f([]int{1, 2}, []int{1}); err == nil {
			t.Errorf("%s: no error for mismatched lengths", name)
		}
	}
}
