package pglocal

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

const pgOSUser = "postgres"

// pgOwner is the OS user the server runs as; nil means the current user.
type pgOwner struct {
	uid, gid uint32
}

func pgLookupOwner() (*pgOwner, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(pgOSUser)
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as the %q OS user (run `make deps`): %w", pgOSUser, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse uid of %q: %w", pgOSUser, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse gid of %q: %w", pgOSUser, err)
	}
	return &pgOwner{uid: uint32(uid), gid: uint32(gid)}, nil
}

func (o *pgOwner) chownTree(root string) error {
	if o == nil {
		return nil
	}
	err := filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(o.uid), int(o.gid))
	})
	if err != nil {
		return fmt.Errorf("chown %s to %s: %w", root, pgOSUser, err)
	}
	return nil
}

func (o *pgOwner) checkReachable(dir string) error {
	if o == nil {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("check access to %s: %w", p, err)
		}
		if !o.canSearch(fi) {
			return fmt.Errorf("the %q OS user cannot reach %s: %s is not searchable (chmod o+x it)", pgOSUser, dir, p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

func (o *pgOwner) canSearch(fi fs.FileInfo) bool {
	mode := fi.Mode().Perm()
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return mode&0o001 != 0
	}
	switch {
	case st.Uid == o.uid:
		return mode&0o100 != 0
	case st.Gid == o.gid:
		return mode&0o010 != 0
	default:
		return mode&0o001 != 0
	}
}
