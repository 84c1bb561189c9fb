package plan_test

import (
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
)

func init() {
	plan.SetFileCodec(func(p *plan.Plan) ([]byte, error) {
		f, err := planfile.Encode(p)
		if err != nil {
			return nil, err
		}
		return f.Bytes(), nil
	}, func(b []byte) (*plan.Plan, error) {
		f, err := planfile.Decode(b)
		if err != nil {
			return nil, err
		}
		return f.Plan(), nil
	})
}
