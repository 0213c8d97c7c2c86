#include "tflstm/arena.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace tflstm {
namespace {

TEST(Arena, AllocatesAlignedBlocksAndAccounts) {
  auto arena = Arena::Create(1000);
  ASSERT_TRUE(arena.ok()) << arena.status().ToString();
  EXPECT_EQ(arena.value()->stats().budget, 1024u);  // rounded up to the alignment
  auto a = arena.value()->Allocate(10, "a");
  auto b = arena.value()->Allocate(100, "b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.value()) % Arena::kAlignment, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.value()) % Arena::kAlignment, 0u);
  EXPECT_EQ(static_cast<char*>(b.value()) - static_cast<char*>(a.value()), 64);
  EXPECT_EQ(arena.value()->stats().used, 64u + 128u);
  EXPECT_TRUE(arena.value()->Contains(b.value()));
}

TEST(Arena, ExhaustionSaysWhatAndHowMuch) {
  auto arena = Arena::Create(128);
  ASSERT_TRUE(arena.ok());
  ASSERT_TRUE(arena.value()->Allocate(64, "first").ok());
  auto big = arena.value()->Allocate(100, "the big buffer");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), ErrorCode::kArenaExhausted);
  const std::string& msg = big.status().message();
  EXPECT_NE(msg.find("the big buffer"), std::string::npos) << msg;
  EXPECT_NE(msg.find("128"), std::string::npos) << msg;  // needs 128 (aligned), budget 128
  EXPECT_NE(msg.find("has 64 of its 128-byte budget left"), std::string::npos) << msg;
  // The failed request changed nothing: what is left can still be used.
  EXPECT_EQ(arena.value()->stats().used, 64u);
  EXPECT_TRUE(arena.value()->Allocate(64, "fits").ok());
}

TEST(Arena, HighWaterMarkSurvivesRelease) {
  auto arena = Arena::Create(4096);
  ASSERT_TRUE(arena.ok());
  Arena& a = *arena.value();
  ASSERT_TRUE(a.Allocate(64, "x").ok());
  const size_t mark = a.stats().used;
  ASSERT_TRUE(a.Allocate(1000, "y").ok());
  EXPECT_EQ(a.stats().high_water, 64u + 1024u);
  a.ReleaseTo(mark);
  EXPECT_EQ(a.stats().used, 64u);
  EXPECT_EQ(a.stats().high_water, 64u + 1024u);
  a.Reset();
  EXPECT_EQ(a.stats().used, 0u);
}

TEST(Arena, ZeroBudgetRefusesEverything) {
  auto arena = Arena::Create(0);
  ASSERT_TRUE(arena.ok());
  auto p = arena.value()->Allocate(1, "one byte");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), ErrorCode::kArenaExhausted);
}

}  // namespace
}  // namespace tflstm
