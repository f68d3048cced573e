package testnet

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// scratchDockerfile is the image BuildImage makes: the static binary alone,
// with no base image to pull.
const scratchDockerfile = `FROM scratch
COPY chaind /chaind
ENTRYPOINT ["/chaind"]
`

// BuildImage builds the docker backend's image, tagged tag, from binary, a
// chaind built with CGO_ENABLED=0: nothing but that file is in it (FROM
// scratch), so it builds where no registry can be reached. Docker's output
// goes to out.
func BuildImage(binary, tag string, out io.Writer) error {
	if err := checkStatic(binary); err != nil {
		return err
	}
	ctxDir, err := os.MkdirTemp("", "chaind-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(ctxDir)
	data, err := os.ReadFile(binary)
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "chaind"), data, 0o755); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(scratchDockerfile), 0o644); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	var errb bytes.Buffer
	cmd := exec.Command("docker", "build", "--tag", tag, ctxDir)
	// The classic builder: it is in every docker, and a FROM scratch
	// image needs nothing of BuildKit.
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	cmd.Stdout, cmd.Stderr = out, io.MultiWriter(out, &errb)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("image: docker build: %w: %s", err, bytes.TrimSpace(errb.Bytes()))
	}
	return nil
}

// checkStatic refuses a binary that needs a dynamic loader, which a
// scratch image does not have.
func checkStatic(binary string) error {
	f, err := elf.Open(binary)
	if err != nil {
		return fmt.Errorf("image: %s is not a Linux executable: %w", binary, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("image: " + binary + " is linked dynamically; build a static one with CGO_ENABLED=0 go build ./cmd/chaind")
		}
	}
	return nil
}
