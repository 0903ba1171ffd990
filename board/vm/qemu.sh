#!/bin/sh
# qemu.sh VMDIR: boot the emulated router built in VMDIR (vmlinuz,
# initramfs.cpio.gz) on qemu's MIPS Malta board.
#
# Environment:
#   FS=ubifs|jffs2      the spool's flash filesystem (board/vm/flash)
#   PORT, TLSPORT       host ports (127.0.0.1) forwarded to nomx's 25, 465
#   CONSOLE=stdio       the console (ttyS0): stdio (with qemu's Ctrl-A
#                       keys), pty (qemu prints which), or unix:PATH (a
#                       socket qemu listens on)
#   UART2=none          a second serial port (ttyS1) with a shell and the
#                       kernel's messages: pty, unix:PATH or none
#   APPEND              more kernel arguments (nomx.flash=N, ...)
#   TAP=IFNAME LAN=A/N  a second network card on that tap device (made
#                       beforehand, in a network namespace of one's own),
#                       the router's LAN, its address A/N there: devices
#                       there reach nomx each from its own address
set -eu
vm=$1
FS=${FS:-ubifs} PORT=${PORT:-2525} TLSPORT=${TLSPORT:-2465}
CONSOLE=${CONSOLE:-stdio} UART2=${UART2:-none}

serial() {
	case $1 in
	stdio) echo "-serial mon:stdio" ;;
	pty) echo "-serial pty" ;;
	unix:*) echo "-serial unix:${1#unix:},server=on,wait=off" ;;
	none) echo "-serial null" ;;
	esac
}
lan=""
if [ -n "${TAP:-}" ]; then
	lan="-netdev tap,id=net1,ifname=$TAP,script=no,downscript=no -device pcnet,netdev=net1,romfile="
fi
consoles="console=ttyS0,115200" shells=ttyS0
if [ "$UART2" != none ]; then
	consoles="console=ttyS1,115200" shells=ttyS0,ttyS1
fi
# shellcheck disable=SC2046,SC2086 # $lan and serial(): words on purpose
exec qemu-system-mipsel -M malta -m 256 -vga none -display none -monitor none -no-reboot \
	-kernel "$vm/vmlinuz" -initrd "$vm/initramfs.cpio.gz" \
	-append "$consoles quiet nomx.fs=$FS nomx.ports=$PORT,$TLSPORT nomx.shells=$shells ${LAN:+nomx.lan=$LAN} ${APPEND:-}" \
	-netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$PORT-:25,hostfwd=tcp:127.0.0.1:$TLSPORT-:465" \
	-device pcnet,netdev=net0,romfile= $lan \
	$(serial "$CONSOLE") $(serial "$UART2")
