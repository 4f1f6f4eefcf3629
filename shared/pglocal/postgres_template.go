package pglocal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const pgTemplatePrefix = "httvps-pgtemplate-"

// pgInitFromTemplate fills the empty data dir with a copy of a cluster that
// initdb made once per machine, which is several times faster than initdb.
func pgInitFromTemplate(ctx context.Context, binDir string, owner *pgOwner, cfg pgClusterConfig) error {
	tmpl, err := pgTemplate(ctx, binDir, owner, cfg)
	if err != nil {
		return err
	}
	if err := pgCopyTree(tmpl, cfg.dir); err != nil {
		return fmt.Errorf("copy template cluster %s: %w", tmpl, err)
	}
	return owner.chownTree(cfg.dir)
}

func pgTemplate(ctx context.Context, binDir string, owner *pgOwner, cfg pgClusterConfig) (string, error) {
	sum := sha256.Sum256([]byte(strings.Join(append([]string{binDir, strconv.Itoa(os.Geteuid())}, cfg.initArgs...), "\x00")))
	root := filepath.Join(pgTestBaseDir(), pgTemplatePrefix+hex.EncodeToString(sum[:6]))
	data := filepath.Join(root, "data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err == nil {
		return data, nil
	}
	tmp, err := os.MkdirTemp(pgTestBaseDir(), filepath.Base(root)+".tmp-")
	if err != nil {
		return "", fmt.Errorf("create template cluster dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := owner.chownTree(tmp); err != nil {
		return "", err
	}
	init := cfg
	init.dir = filepath.Join(tmp, "data")
	if _, err := pgPrepareDataDir(init.dir, owner); err != nil {
		return "", err
	}
	if err := pgInitdb(ctx, binDir, owner, init); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, root); err != nil {
		if _, statErr := os.Stat(filepath.Join(data, "PG_VERSION")); statErr == nil {
			return data, nil
		}
		return "", fmt.Errorf("install template cluster: %w", err)
	}
	return data, nil
}

func pgCopyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, info.Mode().Perm()); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			return os.Chmod(target, info.Mode().Perm())
		case info.Mode().IsRegular():
			return pgCopyFile(path, target, info.Mode().Perm())
		default:
			return fmt.Errorf("%s: unexpected file type %s", path, info.Mode().Type())
		}
	})
}

func pgCopyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}
