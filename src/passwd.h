/* SPDX-License-Identifier: ISC */
/*
 * The run user's ids from /etc/passwd, read directly: on the devices
 * nomx runs on that file is the whole user database, and getpwnam()
 * would bring stdio's FILE, getline and malloc into the binary.
 */
#ifndef NOMX_PASSWD_H
#define NOMX_PASSWD_H

struct passwd_ids {
	unsigned uid;
	unsigned gid;
};

/* Look name up in path (normally "/etc/passwd"); 0, or -1 when there
 * is no such user or the file cannot be read (errno says which). */
int passwd_lookup(const char *path, const char *name, struct passwd_ids *ids);

#endif
