package reduce

import (
	"math"
	"testing"
)

func TestFindAB(t *testing.T) {
	// References: umap-learn 0.5.3, umap.umap_.find_ab_params(spread, min_dist)
	// (scipy curve_fit). Both fits stop at their own tolerance, hence 1e-6.
	for _, c := range []struct{ spread, minDist, a, b float64 }{
		{1, 0.1, 1.5769434601962196, 0.8950608779914887},
		{1, 0, 1.9328083975546724, 0.7904949734010681},
		{2, 0.5, 0.25887874119038884, 1.057499699581397},
	} {
		a, b, err := findAB(c.spread, c.minDist)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(a-c.a) > 1e-6*c.a || math.Abs(b-c.b) > 1e-6*c.b {
			t.Errorf("findAB(%g, %g) = %.10g, %.10g; want %.10g, %.10g", c.spread, c.minDist, a, b, c.a, c.b)
		}
	}
}
