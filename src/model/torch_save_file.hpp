// Recognising the common export mistake: a torch.save() file (a state dict, a checkpoint,
// a pickled nn.Module) passed where a TorchScript archive is expected. Internal to libembq.
#pragma once

#include <filesystem>
#include <string>

namespace embq {

// What the zip at `path` holds when torch.save() wrote it ("a torch.save() file holding
// tensors by name (a state dict or checkpoint), not a TorchScript model"); empty when
// it is not such a file.
std::string describe_torch_save_file(const std::filesystem::path& path);

}  // namespace embq
