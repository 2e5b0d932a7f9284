#include "model/torch_save_file.hpp"

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

#include <caffe2/serialize/inline_container.h>

namespace embq {

namespace {

uint64_t little_endian(std::string_view bytes, size_t at, size_t width) {
    uint64_t value = 0;
    for (size_t i = 0; i < width; ++i)
        value |= uint64_t{static_cast<unsigned char>(bytes[at + i])} << (8 * i);
    return value;
}

// The globals ("module.name") a pickle imports, read opcode by opcode (protocols 0-5):
// GLOBAL carries them as two lines, STACK_GLOBAL takes the last two strings pushed.
// libtorch's own unpickler is no help here: it rejects opcodes Python emits (SETITEM for
// a one-entry dict), and a pickled nn.Module needs its Python classes anyway. Stops at
// STOP, at an unknown opcode or at the end of the data.
std::vector<std::string> imported_globals(std::string_view pickle) {
    std::vector<std::string> globals;
    std::vector<std::string> strings;  // the last strings pushed, for STACK_GLOBAL
    size_t at = 0;
    const auto line = [&]() -> std::string_view {
        const size_t end = pickle.find('\n', at);
        if (end == std::string_view::npos) {
            at = pickle.size();
            return {};
        }
        const std::string_view text = pickle.substr(at, end - at);
        at = end + 1;
        return text;
    };
    // A length-prefixed argument: `width` bytes of length, then that many bytes.
    const auto counted = [&](size_t width) -> std::string_view {
        const uint64_t length =
            at + width <= pickle.size() ? little_endian(pickle, at, width) : pickle.size();
        if (length > pickle.size() - std::min(pickle.size(), at + width)) {
            at = pickle.size();  // cut off: nothing more to read
            return {};
        }
        const std::string_view text = pickle.substr(at + width, length);
        at += width + length;
        return text;
    };
    // Opcodes by their argument (pickletools' table); '.' STOP ends the pickle.
    constexpr std::string_view kNoArgument =
        "(012NQRabd}el]ost)u\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x94\x97\x98";
    constexpr std::string_view kLine = "FILPSVgp";
    constexpr std::string_view kFixed[] = {"Khq\x80\x82", "M\x83", "Jjr\x84", "G\x95"};
    constexpr size_t kFixedWidth[] = {1, 2, 4, 8};
    constexpr std::string_view kCounted[] = {"UC\x8a\x8c", "TBX\x8b", "\x8d\x8e\x96"};
    constexpr size_t kCountWidth[] = {1, 4, 8};
    constexpr std::string_view kStrings = "X\x8c\x8d";  // unicode strings: STACK_GLOBAL's
    while (at < pickle.size()) {
        const char op = pickle[at++];
        if (op == '.') return globals;
        if (op == 'c' || op == 'i') {  // GLOBAL, INST: "module\nname\n"
            const std::string module(line());
            globals.push_back(module + "." + std::string(line()));
            continue;
        }
        if (op == '\x93') {  // STACK_GLOBAL
            if (strings.size() >= 2)
                globals.push_back(strings[strings.size() - 2] + "." + strings.back());
            continue;
        }
        if (kNoArgument.find(op) != std::string_view::npos) continue;
        if (kLine.find(op) != std::string_view::npos) {
            line();
            continue;
        }
        bool known = false;
        for (size_t i = 0; i < 4 && !known; ++i)
            if (kFixed[i].find(op) != std::string_view::npos) {
                at += kFixedWidth[i];
                known = true;
            }
        for (size_t i = 0; i < 3 && !known; ++i)
            if (kCounted[i].find(op) != std::string_view::npos) {
                const std::string_view text = counted(kCountWidth[i]);
                if (kStrings.find(op) != std::string_view::npos) {
                    strings.emplace_back(text);
                    if (strings.size() > 2) strings.erase(strings.begin());
                }
                known = true;
            }
        if (!known) return globals;  // not a pickle opcode: stop reading
    }
    return globals;
}

// Imports a state dict or checkpoint makes: tensors, storages, ordered dicts.
bool is_tensor_plumbing(const std::string& global) {
    return global.rfind("torch._utils.", 0) == 0 || global.rfind("collections.", 0) == 0 ||
           (global.rfind("torch.", 0) == 0 && global.find("Storage") != std::string::npos) ||
           global == "torch.device" || global == "torch.Size";
}

}  // namespace

std::string describe_torch_save_file(const std::filesystem::path& path) {
    std::string pickle;
    try {
        caffe2::serialize::PyTorchStreamReader reader(path.string());
        if (!reader.hasRecord("data.pkl") || reader.hasRecord("constants.pkl")) return "";
        const auto [data, size] = reader.getRecord("data.pkl");
        pickle.assign(static_cast<const char*>(data.get()), size);
    } catch (const std::exception&) {
        return "";  // not a zip libtorch can read: the caller says so
    }
    // The class a pickled object needs names it best; Python's builtins (sets, ...) say
    // little, so they are named only when nothing else is.
    std::string needed;
    for (const std::string& global : imported_globals(pickle)) {
        if (is_tensor_plumbing(global)) continue;
        const bool builtin =
            global.rfind("__builtin__.", 0) == 0 || global.rfind("builtins.", 0) == 0;
        if (needed.empty() || !builtin) needed = global;
        if (!builtin) break;
    }
    if (!needed.empty())
        return "a torch.save() file of a pickled Python object (it needs " + needed +
               "), not a TorchScript model";
    return "a torch.save() file holding tensors by name (a state dict or checkpoint, no "
           "code), not a TorchScript model";
}

}  // namespace embq
