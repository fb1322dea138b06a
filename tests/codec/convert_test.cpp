#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>

#include <sim/codec/value.hpp>

using sim::array;
using sim::map;
using sim::value;

namespace convert_test {

struct point {
    int x = 0;
    int y = 0;
    template <class Archive>
    void serialize(Archive& ar) {
        ar(CEREAL_NVP(x), CEREAL_NVP(y));
    }
    friend bool operator==(const point&, const point&) = default;
};

// Private fields, reached through cereal::access as Cereal users write it.
class segment {
  public:
    segment() = default;
    segment(point a, point b, std::string label) : a_(a), b_(b), label_(std::move(label)) {}
    const std::string& label() const { return label_; }
    friend bool operator==(const segment&, const segment&) = default;

  private:
    friend class cereal::access;
    template <class Archive>
    void serialize(Archive& ar) {
        ar(cereal::make_nvp("a", a_), cereal::make_nvp("b", b_), cereal::make_nvp("label", label_));
    }
    point a_, b_;
    std::string label_;
};

struct free_serialized {
    std::vector<double> samples;
    std::optional<std::string> note;
};
template <class Archive>
void serialize(Archive& ar, free_serialized& f) {
    ar(cereal::make_nvp("samples", f.samples), cereal::make_nvp("note", f.note));
}

struct split {
    int stored = 0;
    int derived = 0;
    template <class Archive>
    void save(Archive& ar) const {
        ar(cereal::make_nvp("stored", stored));
    }
    template <class Archive>
    void load(Archive& ar) {
        ar(cereal::make_nvp("stored", stored));
        derived = stored * 2;
    }
};

struct base_part {
    int id = 0;
    template <class Archive>
    void serialize(Archive& ar) {
        ar(CEREAL_NVP(id));
    }
};
struct derived_part : base_part {
    std::string name;
    template <class Archive>
    void serialize(Archive& ar) {
        ar(cereal::base_class<base_part>(this), CEREAL_NVP(name));
    }
};

struct unnamed {
    int a = 0;
    std::string b;
    template <class Archive>
    void serialize(Archive& ar) {
        ar(a, b);
    }
};

struct versioned {
    int v = 0;
    template <class Archive>
    void serialize(Archive& ar, std::uint32_t const version) {
        ar(CEREAL_NVP(v));
        if (version < 2) v = -v;
    }
};

// No Cereal: travels as an object through an explicit serializer pair.
struct opaque {
    int secret = 0;
};

enum class color : std::uint8_t { red = 1, green = 2 };

}  // namespace convert_test

CEREAL_CLASS_VERSION(convert_test::versioned, 2);

template <>
inline constexpr bool sim::enable_object<convert_test::opaque> = true;

using namespace convert_test;

TEST_CASE("scalars convert both ways with range checks", "[convert]") {
    CHECK(sim::to_value(true) == value(true));
    CHECK(value(42).as<int>() == 42);
    CHECK(value(200).as<std::uint8_t>() == 200);
    CHECK_THROWS_WITH(value(300).as<std::uint8_t>(), "300 is out of range for unsigned char");
    CHECK_THROWS_AS(value(-1).as<unsigned>(), sim::serialization_error);
    CHECK_THROWS_AS(value(std::uint64_t{1} << 63).as<std::int64_t>(), sim::serialization_error);
    CHECK(value(std::uint64_t{1} << 63).as<std::uint64_t>() == (std::uint64_t{1} << 63));
    CHECK_THROWS_AS(value(sim::big_integer("1" + std::string(30, '0'))).as<std::uint64_t>(),
                    sim::serialization_error);
    CHECK(value(2).as<double>() == 2.0);
    CHECK(value(2.5).as<float>() == 2.5f);
    CHECK_THROWS_WITH(value(2.5).as<int>(), "expected int, got float 2.5");
    CHECK_THROWS_AS(value(1).as<bool>(), sim::serialization_error);
    CHECK(sim::to_value("lit") == value("lit"));
    CHECK(sim::to_value(std::string_view("sv")) == value("sv"));
    CHECK(value("s").as<std::string>() == "s");
    CHECK(sim::to_value(color::green) == value(2));
    CHECK(value(1).as<color>() == color::red);
    CHECK(sim::to_value(nullptr).is_nil());
    CHECK(sim::to_value(std::chrono::milliseconds(1500)) == value(1.5));
    CHECK(value(0.25).as<std::chrono::milliseconds>() == std::chrono::milliseconds(250));
}

TEST_CASE("containers, optionals and tuples", "[convert]") {
    std::vector<int> xs{1, 2, 3};
    CHECK(sim::to_value(xs) == value(array{1, 2, 3}));
    CHECK(value(array{1, 2, 3}).as<std::vector<int>>() == xs);
    CHECK(value(array{1, 2}).as<std::list<long>>() == std::list<long>{1, 2});
    CHECK(value(array{3, 1, 3}).as<std::set<int>>() == std::set<int>{1, 3});
    CHECK(value(array{1, 2}).as<std::array<int, 2>>() == std::array<int, 2>{1, 2});
    CHECK_THROWS_WITH((value(array{1}).as<std::array<int, 2>>()),
                      "expected an array of 2 elements, got 1");

    std::map<std::string, std::vector<double>> m{{"a", {1.0}}, {"b", {}}};
    value mv = sim::to_value(m);
    CHECK(mv == value(map{{"a", array{1.0}}, {"b", array{}}}));
    CHECK((mv.as<std::map<std::string, std::vector<double>>>()) == m);
    CHECK((value(map{{1, "x"}}).as<std::unordered_map<int, std::string>>().at(1)) == "x");

    CHECK(sim::to_value(std::optional<int>{}).is_nil());
    CHECK(sim::to_value(std::optional<int>{4}) == value(4));
    CHECK(value().as<std::optional<int>>() == std::nullopt);
    CHECK(value(5).as<std::optional<int>>() == 5);

    auto t = std::make_tuple(1, std::string("two"), 3.0);
    CHECK(sim::to_value(t) == value(array{1, "two", 3.0}));
    CHECK((value(array{1, "two", 3.0}).as<std::tuple<int, std::string, double>>()) == t);
    CHECK((value(array{1, 2}).as<std::pair<int, int>>()) == std::pair{1, 2});
    CHECK_THROWS_AS((value(array{1, 2, 3}).as<std::pair<int, int>>()), sim::serialization_error);

    sim::bytes b{std::byte{1}, std::byte{2}};
    CHECK(sim::to_value(b) == value(b));
    CHECK(value(b).as<sim::bytes>() == b);
}

TEST_CASE("a failed conversion names the place inside the value", "[convert]") {
    value v(array{array{1}, array{2, "three"}});
    try {
        (void)v.as<std::vector<std::vector<int>>>();
        FAIL("expected an exception");
    } catch (const sim::serialization_error& e) {
        CHECK(e.place() == "[1][1]");
        CHECK(e.reason() == "expected int, got string \"three\"");
        CHECK(std::string(e.what()) == "expected int, got string \"three\" (at [1][1])");
    }
    value m(map{{"speed", array{1, "fast"}}});
    try {
        (void)m.as<std::map<std::string, std::vector<int>>>();
        FAIL("expected an exception");
    } catch (const sim::serialization_error& e) {
        CHECK(e.place() == "[\"speed\"][1]");
    }
}

TEST_CASE("Cereal types become objects with field maps", "[convert][cereal]") {
    point p{3, 4};
    value v = sim::to_value(p);
    REQUIRE(v.is_object());
    CHECK(v.as_object().type_name() == "convert_test::point");
    CHECK(v.as<point>() == p);
    CHECK(sim::to_fields(p) == map{{"x", 3}, {"y", 4}});
    // A peer without our serializer may send the plain field map.
    CHECK(value(map{{"y", 6}, {"x", 5}}).as<point>() == point{5, 6});
    CHECK(v == sim::to_value(point{3, 4}));
    CHECK(v != sim::to_value(point{3, 5}));
    CHECK(fmt::format("{}", v) == "convert_test::point{\"x\": 3, \"y\": 4}");

    segment s{{1, 2}, {3, 4}, "edge"};
    map fields = sim::to_fields(s);
    CHECK(fields.at("label") == value("edge"));
    CHECK(fields.at("a").as<point>() == point{1, 2});  // nested user types stay objects
    CHECK(sim::from_fields<segment>(fields) == s);

    free_serialized f{{1.5, 2.5}, std::nullopt};
    CHECK(sim::to_fields(f) == map{{"samples", array{1.5, 2.5}}, {"note", nullptr}});
    CHECK(sim::from_fields<free_serialized>(map{{"samples", array{}}, {"note", "n"}}).note == "n");

    split sp{21, 0};
    CHECK(sim::to_fields(sp) == map{{"stored", 21}});
    CHECK(sim::from_fields<split>(map{{"stored", 21}}).derived == 42);

    derived_part d;
    d.id = 7;
    d.name = "seven";
    CHECK(sim::to_fields(d) == map{{"id", 7}, {"name", "seven"}});
    CHECK(sim::from_fields<derived_part>(map{{"id", 8}, {"name", "x"}}).id == 8);

    CHECK(sim::to_fields(unnamed{1, "b"}) == map{{"value0", 1}, {"value1", "b"}});

    CHECK(sim::to_fields(versioned{5}) == map{{"cereal_class_version", 2}, {"v", 5}});
    CHECK(sim::from_fields<versioned>(map{{"cereal_class_version", 1}, {"v", 5}}).v == -5);
}

TEST_CASE("reading fields reports what is missing or wrong", "[convert][cereal]") {
    CHECK_THROWS_WITH(sim::from_fields<point>(map{{"x", 1}}), "missing field \"y\"");
    try {
        (void)sim::from_fields<point>(map{{"x", 1}, {"y", "no"}});
        FAIL("expected an exception");
    } catch (const sim::serialization_error& e) {
        CHECK(e.place() == "[\"y\"]");
    }
    CHECK_THROWS_WITH(value(3).as<point>(), "expected convert_test::point, got int 3");
    // Extra fields are ignored: a newer peer may send more.
    CHECK(sim::from_fields<point>(map{{"x", 1}, {"y", 2}, {"z", 3}}) == point{1, 2});
}

TEST_CASE("opted-in types travel as opaque objects", "[convert]") {
    value v = sim::to_value(opaque{9});
    REQUIRE(v.is_object());
    CHECK(v.as<opaque>().secret == 9);
    CHECK(fmt::format("{}", v) == "convert_test::opaque{...}");
    CHECK_THROWS_AS(value(map{{"secret", 9}}).as<opaque>(), sim::serialization_error);
    // No operator==: objects compare by identity.
    value copy = v;
    CHECK(copy == v);
    CHECK(sim::to_value(opaque{9}) != v);
}

struct custom_mapped {
    double re = 0, im = 0;
};

template <>
struct sim::convert<custom_mapped> {
    static value to_value(const custom_mapped& c) { return value(array{c.re, c.im}); }
    static custom_mapped from_value(const value& v) {
        return {v.as_array().at(0).as_double(), v.as_array().at(1).as_double()};
    }
};

TEST_CASE("a convert specialisation maps a type to plain values", "[convert]") {
    CHECK(sim::to_value(custom_mapped{1, 2}) == value(array{1.0, 2.0}));
    CHECK(value(array{3, 4.5}).as<custom_mapped>().im == 4.5);
    CHECK(sim::to_value(std::vector<custom_mapped>{{1, 2}}) == value(array{array{1.0, 2.0}}));
}
