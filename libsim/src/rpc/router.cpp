#include <sim/rpc/router.hpp>

#include <stdexcept>

namespace sim::rpc {

router::~router() {
    if (parent_ != nullptr) parent_->remove(name_);
    for (auto& [name, e] : entries_) {
        if (e.child != nullptr) e.child->parent_ = nullptr;
    }
}

router& router::put_function(std::string name, raw_handler handler) {
    if (name.empty() || name.find('/') != std::string::npos) {
        throw std::invalid_argument("cannot expose \"" + name +
                                    "\": a name is not empty and has no '/'");
    }
    entry& e = entries_[std::move(name)];
    if (e.child != nullptr) e.child->parent_ = nullptr;
    e.child = nullptr;
    e.function = std::move(handler);
    return *this;
}

router& router::expose_raw(std::string name, raw_handler handler) {
    return put_function(std::move(name), std::move(handler));
}

router& router::add(std::string name, router& child) {
    if (name.empty() || name.find('/') != std::string::npos) {
        throw std::invalid_argument("cannot add \"" + name +
                                    "\": a name is not empty and has no '/'");
    }
    if (child.parent_ != nullptr) {
        throw std::invalid_argument("cannot add \"" + name +
                                    "\": the router already belongs to \"" + child.path() + "\"");
    }
    for (const router* r = this; r != nullptr; r = r->parent_) {
        if (r == &child)
            throw std::invalid_argument("cannot add \"" + name + "\": that would make a cycle");
    }
    if (entries_.contains(name)) {
        throw std::invalid_argument("cannot add \"" + name + "\": the name is taken in \"" +
                                    path() + "\"");
    }
    child.parent_ = this;
    child.name_ = name;
    entries_[std::move(name)].child = &child;
    return *this;
}

bool router::remove(std::string_view name) {
    auto it = entries_.find(name);
    if (it == entries_.end()) return false;
    if (it->second.child != nullptr) it->second.child->parent_ = nullptr;
    entries_.erase(it);
    return true;
}

bool router::contains(std::string_view name) const {
    return entries_.find(name) != entries_.end();
}

std::string router::path() const {
    if (parent_ == nullptr) return {};
    std::string above = parent_->path();
    return above.empty() ? name_ : above + "/" + name_;
}

const router& router::root() const noexcept {
    const router* r = this;
    while (r->parent_ != nullptr)
        r = r->parent_;
    return *r;
}

router* router::child(std::string_view name) const {
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : it->second.child;
}

router::target router::resolve(std::string_view path) {
    router* at = this;
    std::size_t start = 0;
    for (;;) {
        std::size_t slash = path.find('/', start);
        std::string_view name =
            path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
        auto it = at->entries_.find(name);
        if (it == at->entries_.end()) {
            // aiomas' wording: the prefix is the components before the failing one.
            throw lookup_error("Name \"" + std::string(name) + "\" not found in \"" +
                               std::string(path.substr(0, start == 0 ? 0 : start - 1)) + "\"");
        }
        if (slash == std::string_view::npos) {
            if (it->second.function) return {&*it->second.function, nullptr};
            return {nullptr, it->second.child};
        }
        if (it->second.child == nullptr) {
            throw lookup_error(
                "Name \"" +
                std::string(path.substr(slash + 1, path.find('/', slash + 1) - slash - 1)) +
                "\" not found in \"" + std::string(path.substr(0, slash)) + "\"");
        }
        at = it->second.child;
        start = slash + 1;
    }
}

namespace detail {

signature::signature(std::string function, std::size_t count, std::vector<arg> names)
    : function_(std::move(function)), count_(count), names_(std::move(names)) {
    if (!names_.empty() && names_.size() != count_) {
        throw std::invalid_argument("exposing " + function_ + ": " + std::to_string(names_.size()) +
                                    " parameter names for " + std::to_string(count_) +
                                    " parameters");
    }
    bool defaults = false;
    for (const auto& a : names_) {
        if (a.default_value()) {
            defaults = true;
        } else if (defaults) {
            throw std::invalid_argument("exposing " + function_ + ": parameter '" + a.name() +
                                        "' without a default follows one with a default");
        }
    }
}

namespace {

std::string quoted_list(const std::vector<std::string>& names) {
    // Python: 'a'; 'a' and 'b'; 'a', 'b', and 'c'.
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) out += names.size() == 2 ? " and " : (i + 1 == names.size() ? ", and " : ", ");
        out += "'" + names[i] + "'";
    }
    return out;
}

}  // namespace

void signature::bind(array& args, map& kwargs, std::span<bound_arg> out) const {
    // The function's name is needed only for errors: build it then.
    auto who = [&] { return function_ + "()"; };
    if (args.size() > count_) {
        throw type_error(who() + " takes " + std::to_string(count_) + " positional argument" +
                         (count_ == 1 ? "" : "s") + " but " + std::to_string(args.size()) +
                         (args.size() == 1 ? " was" : " were") + " given");
    }
    for (std::size_t i = 0; i < args.size(); ++i)
        out[i].own = &args[i];
    if (!kwargs.empty()) {
        if (names_.empty()) throw type_error(who() + " takes no keyword arguments");
        for (std::size_t k = 0; k < kwargs.size(); ++k) {
            const auto& entry = kwargs.entry_at(k);
            const std::string* name = entry.first.get_if<std::string>();
            if (name == nullptr) throw type_error(who() + " keywords must be strings");
            std::size_t i = 0;
            while (i < names_.size() && names_[i].name() != *name)
                ++i;
            if (i == names_.size())
                throw type_error(who() + " got an unexpected keyword argument '" + *name + "'");
            if (out[i].own != nullptr)
                throw type_error(who() + " got multiple values for argument '" + *name + "'");
            out[i].own = &kwargs.mapped_at(k);
        }
    }
    std::vector<std::string> missing;
    for (std::size_t i = 0; i < count_; ++i) {
        if (out[i].own != nullptr) continue;
        if (i < names_.size() && names_[i].default_value()) {
            out[i].shared = &*names_[i].default_value();
        } else {
            missing.push_back(i < names_.size() ? names_[i].name() : std::to_string(i + 1));
        }
    }
    if (!missing.empty()) {
        throw type_error(who() + " missing " + std::to_string(missing.size()) +
                         " required positional argument" + (missing.size() == 1 ? "" : "s") + ": " +
                         quoted_list(missing));
    }
}

std::string signature::describe(std::size_t index) const {
    if (index < names_.size()) return function_ + "() argument '" + names_[index].name() + "'";
    return function_ + "() argument " + std::to_string(index + 1);
}

}  // namespace detail
}  // namespace sim::rpc
