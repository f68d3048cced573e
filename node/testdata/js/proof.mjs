// Fetches eth_getProof for an account with viem at the latest block and
// checks it against the block's stateRoot with viem's keccak256 and RLP
// (a Merkle-Patricia proof walk, as a light client does), then checks that
// a proof with one byte changed, and the proof against another root, are
// refused. Prints one JSON line.
// Usage: node proof.mjs URL ADDRESS
import { createPublicClient, http, keccak256, fromRlp, hexToBytes, hexToBigInt } from "viem";

const [url, address] = process.argv.slice(2);

function nibbles(bytes) {
  const out = [];
  for (const b of bytes) out.push(b >> 4, b & 15);
  return out;
}

// verify walks proof (root first) along keccak256(key) from root and
// returns the value at the end (null: proved absent); it throws on a node
// that is not the one its parent names.
function verify(root, key, proof) {
  const path = nibbles(hexToBytes(keccak256(key)));
  let want = root.toLowerCase();
  let i = 0;
  for (const node of proof) {
    if (keccak256(node) !== want) throw new Error(`node ${keccak256(node)} is not ${want}`);
    const n = fromRlp(node, "hex");
    if (n.length === 17) {
      if (i === path.length) return n[16] === "0x" ? null : n[16];
      want = n[path[i++]];
      if (want === "0x") return null;
    } else if (n.length === 2) {
      const enc = nibbles(hexToBytes(n[0]));
      const rest = enc.slice(enc[0] % 2 === 1 ? 1 : 2);
      if (rest.some((x, k) => path[i + k] !== x)) return null;
      i += rest.length;
      if (enc[0] >= 2) return i === path.length ? n[1] : null;
      want = n[1];
    } else {
      throw new Error("malformed node");
    }
    if (typeof want !== "string" || want.length !== 66) throw new Error("embedded node");
  }
  throw new Error("proof ends early");
}

function refused(root, key, proof) {
  try {
    verify(root, key, proof);
    return false;
  } catch {
    return true;
  }
}

const client = createPublicClient({ transport: http(url) });
const block = await client.getBlock({ blockTag: "latest" });
const proof = await client.getProof({ address, storageKeys: [], blockNumber: block.number });
const balance = await client.getBalance({ address, blockNumber: block.number });
const leaf = verify(block.stateRoot, address, proof.accountProof);
const [nonce, provedBalance] = fromRlp(leaf, "hex");
const last = proof.accountProof.length - 1;
const tampered = [...proof.accountProof];
tampered[last] = tampered[last].slice(0, -2) + (tampered[last].endsWith("00") ? "01" : "00");
console.log(JSON.stringify({
  block: Number(block.number),
  nodes: proof.accountProof.length,
  balance: balance.toString(),
  provedBalance: (provedBalance === "0x" ? 0n : hexToBigInt(provedBalance)).toString(),
  provedNonce: Number(nonce === "0x" ? 0n : hexToBigInt(nonce)),
  answeredBalance: proof.balance.toString(),
  tamperedRefused: refused(block.stateRoot, address, tampered),
  otherRootRefused: refused(keccak256("0x01"), address, proof.accountProof),
}));
