# The backport's differences in the new files (linux/), applied when they
# are copied into a 6.12 tree: 6.12's MODULE_IMPORT_NS() takes the
# namespace as an identifier; it is a string literal since 6.13.
s/^MODULE_IMPORT_NS("\([A-Z_]*\)");$/MODULE_IMPORT_NS(\1);/
# kzalloc_obj() arrived in 7.0.
s/kzalloc_obj(\*\([a-z_]*\))/kzalloc(sizeof(*\1), GFP_KERNEL)/
# EXPORT_SYMBOL_FOR_KVM() arrived in 6.18.
s/^EXPORT_SYMBOL_FOR_KVM(\([a-z_]*\));$/EXPORT_SYMBOL_GPL(\1);/
/^#include <linux\/kvm_types.h>$/d
