package plan

// The plan file format is plan/planfile's, which imports this package:
// tests here reach it through these, set by planfile_test.go (package
// plan_test, linked into the same test binary).
var (
	encodeFile func(p *Plan) ([]byte, error)
	decodeFile func(b []byte) (*Plan, error)
)

// SetFileCodec is how planfile_test.go sets encodeFile and decodeFile.
func SetFileCodec(enc func(*Plan) ([]byte, error), dec func([]byte) (*Plan, error)) {
	encodeFile, decodeFile = enc, dec
}

// Encode is the plan file of p (planfile.Encode).
func Encode(p *Plan) ([]byte, error) { return encodeFile(p) }

// Decode decodes and verifies a plan file (planfile.Decode).
func Decode(b []byte) (*Plan, error) { return decodeFile(b) }
