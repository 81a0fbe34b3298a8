# The devices of the test guests' machine (scripts/vm-run.sh), and no
# others: an i440FX PC, virtio-pci, virtio-9p (the root) and virtio-blk
# (the scratch and swap disks); and the debug console and exit port of
# QEMU's system tests (scripts/test-qemu.sh). The board selects its own
# (serial, RTC, PIT, PIC, ACPI).
CONFIG_I440FX=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_9P=y
CONFIG_VIRTIO_BLK=y
CONFIG_ISA_DEBUG=y
