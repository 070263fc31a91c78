# Builds and installs the C library: `make install-c PREFIX=/usr/local [DESTDIR=...]`.
# Installs lib/libcstoken.so.<ABI> (SONAME libcstoken.so.<ABI>) with the libcstoken.so symlink,
# lib/libcstoken.a, include/cstoken.h and lib/pkgconfig/cstoken.pc. RELOCATABLE=1 writes a
# cstoken.pc whose prefix is relative to itself (${pcfiledir}/../..), for an unpacked archive.
PREFIX ?= /usr/local
DESTDIR ?=
RELOCATABLE ?=
CARGO ?= cargo
RELEASE := target/release
ABI := $(shell $(CARGO) run -q -p xtask --no-default-features -- print abi)
VERSION := $(shell $(CARGO) run -q -p xtask --no-default-features -- print version)
ifeq ($(and $(ABI),$(VERSION)),)
$(error could not read the ABI and version: `cargo run -p xtask --no-default-features -- print abi` failed)
endif
PC_PREFIX := $(if $(RELOCATABLE),$${pcfiledir}/../..,$(PREFIX))

.PHONY: build-c install-c
build-c:
	$(CARGO) build --release -p cosmos-session-token-ffi

install-c: build-c
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 0755 $(RELEASE)/libcstoken.so $(DESTDIR)$(PREFIX)/lib/libcstoken.so.$(ABI)
	ln -sf libcstoken.so.$(ABI) $(DESTDIR)$(PREFIX)/lib/libcstoken.so
	install -m 0644 $(RELEASE)/libcstoken.a $(DESTDIR)$(PREFIX)/lib/libcstoken.a
	install -m 0644 ffi/include/cstoken.h $(DESTDIR)$(PREFIX)/include/cstoken.h
	sed -e 's|@PREFIX@|$(PC_PREFIX)|' -e 's|@VERSION@|$(VERSION)|' ffi/cstoken.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/cstoken.pc
