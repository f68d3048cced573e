// Sends an EIP-1559 and a legacy transfer to a chaind node with ethers.js v6,
// waits for both receipts and prints what it saw as one JSON line.
// Usage: node send.mjs RPC_URL PRIVATE_KEY
import { ethers } from "ethers";

const [url, key] = process.argv.slice(2);
const provider = new ethers.JsonRpcProvider(url); // batches requests by default
// ethers caches identical calls for 250 ms, so two quick sends would both
// read the same pending nonce; NonceManager is ethers' answer to that.
const wallet = new ethers.NonceManager(new ethers.Wallet(key, provider));
const to = ethers.Wallet.createRandom().address;

const network = await provider.getNetwork();
const fee = await provider.getFeeData();
const tx1 = await wallet.sendTransaction({ to, value: ethers.parseEther("1.25") });
const tx2 = await wallet.sendTransaction({ to, value: 1000n, type: 0, gasPrice: fee.gasPrice });
const [r1, r2] = await Promise.all([tx1.wait(1, 60000), tx2.wait(1, 60000)]);
const block = await provider.getBlock(r1.blockNumber, true);
const balance = await provider.getBalance(to);
console.log(JSON.stringify({
  chainId: network.chainId.toString(),
  type1: tx1.type, type2: tx2.type,
  status1: r1.status, status2: r2.status,
  hash1: r1.hash, hash2: r2.hash,
  blockHasTx: block.transactions.includes(r1.hash),
  balance: balance.toString(),
}));
