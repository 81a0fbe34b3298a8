# The devices of the test guests' machine (scripts/vm-run.sh), and no
# others: an i440FX PC, virtio-pci and virtio-9p; and the debug console
# and exit port of QEMU's system tests (scripts/test-qemu.sh). The board
# selects its own (serial, RTC, PIT, PIC, ACPI).
CONFIG_I440FX=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_9P=y
CONFIG_ISA_DEBUG=y
